/**
 * Browser sign-in tests' world: a real idgate issuer (with the filter registered as a confidential
 * client whose redirect URIs are the apps' callbacks, a password DB with an admin and a user outside
 * the admins group), and a real filter with filter.signIn pointing at it over HTTP. `ProxiedBrowser`
 * plays a browser behind a ForwardAuth proxy: each app request goes to the filter's /traefik endpoint
 * with the headers Traefik sets and the app's cookies, and follows what the filter answers.
 */
import http from 'node:http';
import type { FilterConfigInput } from '../../../src/authz/config.js';
import type { VerificationKeySet } from '../../../src/keys/keyset.js';
import { CookieJar } from '../../helpers/cookie-jar.js';
import { followLogin } from '../../helpers/http-login.js';
import { startTestIssuer, type TestIssuer } from '../../helpers/issuer.js';
import { parse as parseYaml } from 'yaml';
import { startFilterFixture, type FilterFixture } from '../helpers/filter-fixture.js';
import { guideBlockMarked } from '../helpers/proxy-guide.js';

export const FILTER_CLIENT = { id: 'idgate-filter', secret: 'ZmlsdGVyLWNsaWVudC1zZWNyZXQtZm9yLXRlc3Rz' };
export const COOKIE_SECRET = 'c2lnbi1pbi1jb29raWUtc2VjcmV0LWZvci10ZXN0cy0xMjM0NQ';
export const ADMIN = { email: 'admin@example.com', password: 'password' };
/** Same bcrypt hash ("password"), groups without admins. */
export const USER = { email: 'user@example.com', password: 'password' };
const HASH = '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W';

/** The issuer config: the filter's client with a callback on each app origin. */
export function issuerConfig(appOrigins: readonly string[], clientLines = ''): string {
  return `
storage:
  type: memory
web:
  http: 127.0.0.1:0
oauth2:
  skipApprovalScreen: true
staticClients:
  - id: ${FILTER_CLIENT.id}
    name: Apps
    secret: ${FILTER_CLIENT.secret}
    redirectURIs: [${appOrigins.map((origin) => `"${origin}/oauth2/callback"`).join(', ')}]
${clientLines}enablePasswordDB: true
staticPasswords:
  - email: ${ADMIN.email}
    hash: "${HASH}"
    username: admin
    userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
    groups: [admins, staff]
  - email: ${USER.email}
    hash: "${HASH}"
    username: user
    userID: 5b2e7c3a-1f0d-4c55-9d7e-2c1b1f7a9e10
    groups: [staff]
`;
}

/** Policies for namespace shop: /public/* for anyone, the rest for anyone signed in, /admin/* for admins only. */
export const SHOP_POLICIES = {
  'shop.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: web, namespace: shop }
spec:
  rules:
  - to: [{ operation: { paths: ["/public/*"] } }]
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { notPaths: ["/admin/*"] } }]
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/admin/*"] } }]
    when: [{ key: "request.auth.claims[groups]", values: [admins] }]
`,
};

export interface SignInWorld {
  issuer: TestIssuer;
  fixture: FilterFixture;
  close(): Promise<void>;
}

export function signInConfig(issuerURL: string, overrides: Record<string, unknown> = {}): NonNullable<FilterConfigInput['signIn']> {
  return {
    issuer: issuerURL,
    clientID: FILTER_CLIENT.id,
    clientSecret: FILTER_CLIENT.secret,
    cookie: { secret: COOKIE_SECRET },
    ...overrides,
  } as NonNullable<FilterConfigInput['signIn']>;
}

export async function startSignInWorld(options: {
  appOrigins: readonly string[];
  signIn?: Record<string, unknown>;
  filter?: Partial<FilterConfigInput>;
  now?: () => number;
  keySet?: boolean;
} ): Promise<SignInWorld> {
  const issuer = await startTestIssuer({ configYaml: issuerConfig(options.appOrigins) });
  const extra: { now?: () => number; keySet?: VerificationKeySet; issuer?: string } = {};
  if (options.now) extra.now = options.now;
  if (options.keySet) Object.assign(extra, { keySet: issuer.issuer.context.signer, issuer: issuer.url });
  const fixture = await startFilterFixture(SHOP_POLICIES, {
    defaultWorkload: { namespace: 'shop' },
    signIn: signInConfig(issuer.url, options.signIn),
    ...options.filter,
  }, extra);
  return {
    issuer, fixture,
    async close() {
      await fixture.close();
      await issuer.close();
    },
  };
}

/** The ForwardAuth address of the Traefik guide's sign-in block: its path and query (the host is the test's). */
export async function traefikGuideAuthPath(): Promise<string> {
  const block = parseYaml(await guideBlockMarked('traefik.md', 'yaml', '# browser sign-in (filter.signIn)')) as {
    http: { middlewares: { idgate: { forwardAuth: { address: string; trustForwardHeader: boolean } } } };
  };
  const { address, trustForwardHeader } = block.http.middlewares.idgate.forwardAuth;
  if (trustForwardHeader !== false) throw new Error('the Traefik guide must keep trustForwardHeader: false');
  const url = new URL(address);
  return `${url.pathname}${url.search}`;
}

export interface ProxiedResponse {
  status: number;
  location: string | undefined;
  setCookies: string[];
  headers: Headers;
  body: string;
}

/** A browser behind Traefik ForwardAuth: app requests are decided by the filter's /traefik endpoint. */
export class ProxiedBrowser {
  /** The browser's cookies for the apps (and, through followLogin, the issuer). */
  readonly jar = new CookieJar();
  readonly issuerJar = new CookieJar();

  /** `authPath`: the ForwardAuth address's path and query (the Traefik guide's, by default the shop workload). */
  constructor(private readonly filterPort: number, private readonly authPath = '/traefik?namespace=shop') {}

  /**
   * One request for `url` (an app URL) as the proxy hands it to idgate; cookies stored as a browser
   * would. node:http, not fetch: fetch always sends `sec-fetch-mode: cors`, which a navigation does not.
   */
  async request(url: string, init: { method?: string; accept?: string; headers?: Record<string, string>; cookie?: string } = {}): Promise<ProxiedResponse> {
    const target = new URL(url);
    const cookie = init.cookie ?? this.jar.header(url);
    const headers: Record<string, string> = {
      'x-forwarded-method': init.method ?? 'GET',
      'x-forwarded-proto': target.protocol.slice(0, -1),
      'x-forwarded-host': target.host,
      'x-forwarded-uri': `${target.pathname}${target.search}`,
      accept: init.accept ?? 'text/html,application/xhtml+xml',
      'sec-fetch-mode': 'navigate',
      ...(cookie ? { cookie } : {}),
      ...init.headers,
    };
    const { status, raw, body } = await new Promise<{ status: number; raw: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.filterPort, path: this.authPath, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, raw: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end();
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(raw)) {
      for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, one);
    }
    this.jar.store(url, new Response(null, { status: 200, headers: responseHeaders }));
    return { status, location: responseHeaders.get('location') ?? undefined, setCookies: responseHeaders.getSetCookie(), headers: responseHeaders, body };
  }

  /** Opens `url`: redirected to the issuer, signs in there, comes back through the callback; the callback's answer. */
  async signIn(url: string, user: { email: string; password: string }): Promise<{ toIssuer: ProxiedResponse; callbackURL: URL; back: ProxiedResponse }> {
    const toIssuer = await this.request(url);
    if (toIssuer.status !== 302 || !toIssuer.location) throw new Error(`expected a redirect to sign in, got ${toIssuer.status}: ${toIssuer.body.slice(0, 200)}`);
    const origin = new URL(url).origin;
    const callbackURL = await followLogin(toIssuer.location, { redirectURI: `${origin}/oauth2/callback`, username: user.email, password: user.password, jar: this.issuerJar });
    const back = await this.request(callbackURL.href);
    return { toIssuer, callbackURL, back };
  }
}
