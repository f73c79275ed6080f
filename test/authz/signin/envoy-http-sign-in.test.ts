/**
 * Browser sign-in through Envoy's HTTP ext_authz service, configured as the Envoy guide's sign-in
 * block prints it: each request to idgate carries only the headers `allowed_headers` lets through (and
 * Host, method and path, which Envoy always sends), and the browser sees only the answer's headers
 * `allowed_client_headers` names, as Envoy would. So a guide that left out `accept`, `cookie`,
 * `location` or `set-cookie` would fail here.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CookieJar } from '../../helpers/cookie-jar.js';
import { followLogin } from '../../helpers/http-login.js';
import { guideBlockMarked } from '../helpers/proxy-guide.js';
import { ADMIN, startSignInWorld, type SignInWorld } from './harness.js';

const APP = 'http://shop.example.test';

type Pattern = { exact?: string; prefix?: string };
interface HttpService {
  path_prefix: string;
  authorization_request: { allowed_headers: { patterns: Pattern[] } };
  authorization_response: { allowed_upstream_headers: { patterns: Pattern[] }; allowed_client_headers: { patterns: Pattern[] } };
}

let world: SignInWorld;
let service: HttpService;

beforeAll(async () => {
  const block = parseYaml(await guideBlockMarked('envoy-istio.md', 'yaml', '# browser sign-in, HTTP (filter.signIn)')) as Array<{ typed_config: { http_service: HttpService } }>;
  service = block[0]!.typed_config.http_service;
  world = await startSignInWorld({ appOrigins: [APP] });
});
afterAll(async () => {
  await world?.close();
});

const matches = (patterns: Pattern[], name: string) => patterns.some((p) => (p.exact !== undefined ? p.exact === name : name.startsWith(p.prefix!)));

/** What Envoy does for one request: ask idgate with the allowed headers, and on a deny answer the browser with the allowed ones. */
async function throughEnvoy(jar: CookieJar, url: string): Promise<{ status: number; headers: Headers; upstream: Record<string, string> }> {
  const target = new URL(url);
  const browserHeaders: Record<string, string> = { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate', 'user-agent': 'Chromium', ...(jar.header(url) ? { cookie: jar.header(url)! } : {}) };
  const headers: Record<string, string> = { host: target.host };
  for (const [name, value] of Object.entries(browserHeaders)) if (matches(service.authorization_request.allowed_headers.patterns, name)) headers[name] = value;
  const answer = await new Promise<{ status: number; raw: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: world.fixture.filter.httpPort, path: `${service.path_prefix}${target.pathname}${target.search}`, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, raw: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
  const toBrowser = new Headers();
  const upstream: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.raw)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      if (answer.status === 200 && matches(service.authorization_response.allowed_upstream_headers.patterns, name)) upstream[name] = one;
      if (answer.status !== 200 && matches(service.authorization_response.allowed_client_headers.patterns, name)) toBrowser.append(name, one);
    }
  }
  jar.store(url, new Response(null, { headers: toBrowser }));
  return { status: answer.status, headers: toBrowser, upstream };
}

describe('browser sign-in through Envoy HTTP ext_authz (the guide\'s allowed headers)', () => {
  it('redirects, completes the callback, and the cookie authenticates', async () => {
    const jar = new CookieJar();
    const redirect = await throughEnvoy(jar, `${APP}/orders`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(redirect.headers.getSetCookie()).toHaveLength(1);
    const callbackURL = await followLogin(redirect.headers.get('location')!, { redirectURI: `${APP}/oauth2/callback`, username: ADMIN.email, password: ADMIN.password });
    const back = await throughEnvoy(jar, callbackURL.href);
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe(`${APP}/orders`);
    expect(back.headers.getSetCookie()).toHaveLength(2);
    const allowed = await throughEnvoy(jar, `${APP}/orders`);
    expect(allowed.status).toBe(200);
    expect(allowed.upstream['x-idgate-groups']).toBe('admins,staff');
  });
});
