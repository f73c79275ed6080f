/**
 * Browser sign-in over gRPC ext_authz, as Envoy (and Istio's CUSTOM provider) would carry it: the
 * redirect is a DeniedHttpResponse 302 with Location and Set-Cookie (append=true, so Envoy keeps every
 * cookie), the callback another with the session cookie, and then the cookie authenticates (an
 * OkHttpResponse with the identity headers). The client is grpc-js with the vendored Envoy protos, and
 * the route's context_extensions are those of the Envoy guide's sign-in block.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { followLogin } from '../../helpers/http-login.js';
import { guideBlockMarked } from '../helpers/proxy-guide.js';
import { ExtAuthzClient, type CheckResponseMessage } from '../helpers/grpc-client.js';
import { ADMIN, startSignInWorld, USER, type SignInWorld } from './harness.js';

const HOST = 'shop.example.test';
const APP = `http://${HOST}`;

let world: SignInWorld;
let client: ExtAuthzClient;
/** The route's context_extensions, as the Envoy guide's sign-in block sets them. */
let extensions: { namespace?: string; labels?: string };

beforeAll(async () => {
  const block = parseYaml(await guideBlockMarked('envoy-istio.md', 'yaml', '# browser sign-in, gRPC (filter.signIn)')) as {
    routes: Array<{ typed_per_filter_config: Record<string, { check_settings: { context_extensions: { namespace?: string; labels?: string } } }> }>;
  };
  extensions = block.routes[0]!.typed_per_filter_config['envoy.filters.http.ext_authz']!.check_settings.context_extensions;
  world = await startSignInWorld({ appOrigins: [APP] });
  client = new ExtAuthzClient(`127.0.0.1:${world.fixture.filter.grpcPort}`);
});
afterAll(async () => {
  client?.close();
  await world?.close();
});

type DeniedHeader = { header: { key: string; value: string }; append?: { value: boolean } };

function deniedHeaders(response: CheckResponseMessage): DeniedHeader[] {
  return (response.denied_response?.headers ?? []) as DeniedHeader[];
}
const headerValue = (response: CheckResponseMessage, name: string) => deniedHeaders(response).find((h) => h.header.key === name)?.header.value;
const cookiesOf = (response: CheckResponseMessage) => deniedHeaders(response).filter((h) => h.header.key === 'set-cookie');

/** A browser navigation as Envoy describes it, with the cookies the browser holds for the app. */
function navigate(path: string, cookies: string[] = [], extra: Record<string, string> = {}): Promise<CheckResponseMessage> {
  return client.check({
    path, host: HOST, ...extensions,
    headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate', ...(cookies.length ? { cookie: cookies.join('; ') } : {}), ...extra },
  });
}
const pair = (setCookie: string) => setCookie.split(';')[0]!;

describe('browser sign-in over gRPC ext_authz', () => {
  it('redirects with a DeniedHttpResponse 302, completes the callback, and the cookie then authenticates', async () => {
    const redirect = await navigate('/orders?page=2');
    expect(redirect.status?.code).toBe(7);
    expect(redirect.denied_response?.status?.code).toBe(302);
    const location = headerValue(redirect, 'location')!;
    expect(location.startsWith(`${world.issuer.url}/auth?`)).toBe(true);
    const [state] = cookiesOf(redirect);
    expect(state!.append?.value).toBe(true);
    expect(state!.header.value).toMatch(/^_idgate_session_state_[A-Za-z0-9_-]+=v1\./);
    expect(headerValue(redirect, 'content-type')).toBe('text/html; charset=utf-8');

    const callbackURL = await followLogin(location, { redirectURI: `${APP}/oauth2/callback`, username: ADMIN.email, password: ADMIN.password });
    const back = await navigate(`${callbackURL.pathname}${callbackURL.search}`, [pair(state!.header.value)]);
    expect(back.denied_response?.status?.code).toBe(302);
    expect(headerValue(back, 'location')).toBe(`${APP}/orders?page=2`);
    const cookies = cookiesOf(back);
    expect(cookies.map((c) => c.append?.value)).toEqual([true, true]); // Envoy sets append=false headers, which would keep one cookie
    const session = pair(cookies[0]!.header.value);
    expect(session).toMatch(/^_idgate_session=v1\./);

    const allowed = await navigate('/orders?page=2', [session]);
    expect(allowed.status?.code).toBe(0);
    const upstream = Object.fromEntries((allowed.ok_response?.headers ?? []).map((h) => [h.header.key, h.header.value]));
    expect(upstream['x-idgate-groups']).toBe('admins,staff');
    expect(upstream['x-idgate-request-principal']).toMatch(new RegExp(`^${world.issuer.url}/`));
    expect(allowed.dynamic_metadata?.fields?.request_principal?.stringValue).toBe(upstream['x-idgate-request-principal']);
  });

  it('answers 403 (not a redirect) to a signed-in user outside the group', async () => {
    const redirect = await navigate('/admin/users');
    const state = pair(cookiesOf(redirect)[0]!.header.value);
    const callbackURL = await followLogin(headerValue(redirect, 'location')!, { redirectURI: `${APP}/oauth2/callback`, username: USER.email, password: USER.password });
    const back = await navigate(`${callbackURL.pathname}${callbackURL.search}`, [state]);
    const session = pair(cookiesOf(back)[0]!.header.value);
    const denied = await navigate('/admin/users', [session]);
    expect(denied.denied_response?.status?.code).toBe(403);
    expect(headerValue(denied, 'location')).toBeUndefined();
  });

  it('keeps a path that looks protocol-relative on the same host when it sends the browser back', async () => {
    const redirect = await navigate('//evil.example/x');
    expect(redirect.denied_response?.status?.code).toBe(302);
    const state = pair(cookiesOf(redirect)[0]!.header.value);
    const callbackURL = await followLogin(headerValue(redirect, 'location')!, { redirectURI: `${APP}/oauth2/callback`, username: USER.email, password: USER.password });
    const back = await navigate(`${callbackURL.pathname}${callbackURL.search}`, [state]);
    expect(new URL(headerValue(back, 'location')!).host).toBe(HOST);
  });

  it('keeps the 401/403 of an API request (no redirect, no cookie)', async () => {
    const api = await client.check({ path: '/orders', host: HOST, ...extensions, headers: { accept: 'application/json' } });
    expect(api.denied_response?.status?.code).toBe(403);
    expect(cookiesOf(api)).toEqual([]);
  });
});
