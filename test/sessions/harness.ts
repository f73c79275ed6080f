/**
 * What the session tests share: a whole issuer (test/helpers/issuer.ts) with two real relying parties
 * (openid-client) that register post-logout redirect URIs and back-channel logout URIs, a few more
 * clients for consent and group rules, a manual clock (ahead of the relying parties' real one only:
 * what the issuer signs looks fresh to them), a back-channel endpoint that records what it is POSTed, and a sign-in helper that drives
 * the login pages with one cookie jar — one browser — and says which pages the browser passed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { manualClock } from '../../src/clock.js';
import type { DeliveryPolicy } from '../../src/sessions/backchannel.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { followLogin } from '../helpers/http-login.js';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

export const ADMIN = { email: 'admin@example.com', password: 'password', userId: '08a8684b-db88-4b73-90a9-3cd1661f5466' };
export const OTHER_USER = { email: 'other@example.com', password: 'password', userId: 'c0ffee00-0000-4000-8000-000000000002' };
const HASH = '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W';

export interface App {
  id: string;
  secret: string;
  redirectURI: string;
  postLogoutRedirectURI: string;
}

export const APP_ONE: App = { id: 'app-one', secret: 'YXBwLW9uZS1zZWNyZXQtdmFsdWU', redirectURI: 'http://127.0.0.1:5555/one/callback', postLogoutRedirectURI: 'http://127.0.0.1:5555/one/signed-out' };
export const APP_TWO: App = { id: 'app-two', secret: 'YXBwLXR3by1zZWNyZXQtdmFsdWU', redirectURI: 'http://127.0.0.1:5555/two/callback', postLogoutRedirectURI: 'http://127.0.0.1:5555/two/signed-out' };
/** Clients with their own approval and group rules (no back channel). */
export const TRUSTED_APP: App = { id: 'trusted-app', secret: 'dHJ1c3RlZC1hcHAtc2VjcmV0LXZhbHVl', redirectURI: 'http://127.0.0.1:5555/trusted/callback', postLogoutRedirectURI: '' };
export const ADMINS_APP: App = { id: 'admins-app', secret: 'YWRtaW5zLWFwcC1zZWNyZXQtdmFsdWU', redirectURI: 'http://127.0.0.1:5555/admins/callback', postLogoutRedirectURI: '' };
export const OPS_APP: App = { id: 'ops-app', secret: 'b3BzLWFwcC1zZWNyZXQtdmFsdWUtMTI', redirectURI: 'http://127.0.0.1:5555/ops/callback', postLogoutRedirectURI: '' };

/** A back-channel logout endpoint: records every POST; `answer` decides the status of each. */
export interface BackchannelReceiver {
  url: string;
  /** Every POST, in order; a test empties it to count attempts afresh. */
  received: Array<{ path: string; contentType: string | undefined; body: URLSearchParams }>;
  /** The status of the `attempt`-th POST to `path` since `received` was emptied, or 'hang' to answer never. */
  answer: (path: string, attempt: number) => number | 'hang';
  /** Lets every hanging request answer 200. */
  release(): void;
  close(): Promise<void>;
}

export async function startBackchannelReceiver(): Promise<BackchannelReceiver> {
  const hanging: http.ServerResponse[] = [];
  const receiver: BackchannelReceiver = {
    url: '',
    received: [],
    answer: () => 200,
    release() {
      for (const response of hanging.splice(0)) response.writeHead(200).end();
    },
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      receiver.received.push({ path, contentType: req.headers['content-type'], body: new URLSearchParams(body) });
      const attempt = receiver.received.filter((entry) => entry.path === path).length;
      const status = receiver.answer(path, attempt);
      if (status === 'hang') hanging.push(res);
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = async () => {
    receiver.release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

/** Where the apps' redirect URIs are: nothing listens there unless a test serves the apps itself. */
export const APP_ORIGIN = 'http://127.0.0.1:5555';

/** `app` with its URIs moved to `origin` (a test that serves the apps). */
export function appAt(app: App, origin: string): App {
  return { ...app, redirectURI: app.redirectURI.replace(APP_ORIGIN, origin), postLogoutRedirectURI: app.postLogoutRedirectURI.replace(APP_ORIGIN, origin) };
}

/**
 * The config: app-one wants `sid` in its logout tokens, app-two does not; approval shown unless a
 * client skips it; the apps' URIs at `appOrigin`.
 */
export function sessionsConfig(backchannel: string, appOrigin = APP_ORIGIN): string {
  return `
storage: { type: memory }
web: { http: 127.0.0.1:0 }
oauth2: { skipApprovalScreen: false }
expiry: { idTokens: 5m, accessTokens: 5m }
sessions: { absoluteLifetime: 1h, validIfNotUsedFor: 10m }
staticClients:
  - id: ${APP_ONE.id}
    name: App One
    secret: ${APP_ONE.secret}
    redirectURIs: [${APP_ONE.redirectURI}]
    postLogoutRedirectURIs: [${APP_ONE.postLogoutRedirectURI}]
    backchannelLogoutURI: ${backchannel}/one
    backchannelLogoutSessionRequired: true
  - id: ${APP_TWO.id}
    name: App Two
    secret: ${APP_TWO.secret}
    redirectURIs: [${APP_TWO.redirectURI}]
    postLogoutRedirectURIs: [${APP_TWO.postLogoutRedirectURI}]
    backchannelLogoutURI: ${backchannel}/two
  - id: ${TRUSTED_APP.id}
    name: Trusted App
    secret: ${TRUSTED_APP.secret}
    redirectURIs: [${TRUSTED_APP.redirectURI}]
    skipApprovalScreen: true
  - id: ${ADMINS_APP.id}
    name: Admins App
    secret: ${ADMINS_APP.secret}
    redirectURIs: [${ADMINS_APP.redirectURI}]
    skipApprovalScreen: true
    allowedGroups: [admins]
  - id: ${OPS_APP.id}
    name: Ops App
    secret: ${OPS_APP.secret}
    redirectURIs: [${OPS_APP.redirectURI}]
    skipApprovalScreen: true
    allowedGroups: [ops]
enablePasswordDB: true
staticPasswords:
  - { email: ${ADMIN.email}, hash: "${HASH}", username: admin, userID: ${ADMIN.userId}, groups: [admins, developers] }
  - { email: ${OTHER_USER.email}, hash: "${HASH}", username: other, userID: ${OTHER_USER.userId}, groups: [developers] }
`.replaceAll(APP_ORIGIN, appOrigin);
}

/** Retries quickly, so a test that waits for them does not wait long. */
export const FAST_RETRIES: DeliveryPolicy = { attemptTimeoutMs: 2_000, retryDelaysMs: [50, 100, 200], totalBudgetMs: 5_000 };

export interface SessionsIssuer extends TestIssuer {
  clock: ReturnType<typeof manualClock>;
  /** Moves the issuer's clock (only ever forward). */
  advance(ms: number): void;
  relyingParty(app: App): Promise<client.Configuration>;
}

export async function startSessionsIssuer(backchannel: string, options: { appOrigin?: string } = {}): Promise<SessionsIssuer> {
  const clock = manualClock(Date.now());
  const idp = await startTestIssuer({ configYaml: sessionsConfig(backchannel, options.appOrigin), now: clock, backchannelPolicy: FAST_RETRIES });
  return {
    ...idp,
    clock,
    advance: (ms) => clock.advance(ms),
    relyingParty: (app) => client.discovery(new URL(idp.url), app.id, undefined, client.ClientSecretBasic(app.secret), { execute: [client.allowInsecureRequests] }),
  };
}

/** A back-channel receiver, an issuer telling it, and the two relying parties: what most session tests start with. */
export interface SessionsSuite {
  receiver: BackchannelReceiver;
  idp: SessionsIssuer;
  one: client.Configuration;
  two: client.Configuration;
  close(): Promise<void>;
}

export async function startSessionsSuite(): Promise<SessionsSuite> {
  const receiver = await startBackchannelReceiver();
  const idp = await startSessionsIssuer(receiver.url);
  return {
    receiver, idp, one: await idp.relyingParty(APP_ONE), two: await idp.relyingParty(APP_TWO),
    async close() {
      await idp.close();
      await receiver.close();
    },
  };
}

export interface SignIn {
  /** Where the browser landed on the client's redirect URI. */
  landed: URL;
  /** Every URL the browser requested. */
  visited: string[];
  verifier: string;
  state: string;
  nonce: string;
}

/**
 * /auth for `app` in the browser `jar`; types `user`'s password if the password form comes (without
 * `user`, a password form fails the sign-in), approves if the approval page comes.
 */
export async function signIn(party: client.Configuration, app: App, jar: CookieJar, options: { user?: { email: string; password: string }; params?: Record<string, string> } = {}): Promise<SignIn> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(party, {
    redirect_uri: app.redirectURI, scope: 'openid email', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    ...options.params,
  });
  const visited: string[] = [];
  const landed = await followLogin(url.toString(), {
    redirectURI: app.redirectURI, jar, visited,
    ...(options.user ? { username: options.user.email, password: options.user.password } : {}),
  });
  return { landed, visited, verifier, state, nonce };
}

/** The code exchange, with openid-client's checks (PKCE, state, nonce, ID token). */
export function redeem(party: client.Configuration, signedIn: SignIn) {
  return client.authorizationCodeGrant(party, signedIn.landed, { pkceCodeVerifier: signedIn.verifier, expectedState: signedIn.state, expectedNonce: signedIn.nonce, idTokenExpected: true });
}

/** Which of the login pages the browser passed: the password form, the approval page, the chooser. */
export function pagesOf(signedIn: SignIn): string[] {
  return signedIn.visited.map((url) => new URL(url).pathname).filter((path) => /\/auth\/[^/]+\/login$|\/approval$/.test(path))
    .map((path) => (path.endsWith('/approval') ? 'approval' : 'password'))
    .filter((page, index, all) => all.indexOf(page) === index);
}

export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

export { CookieJar };
