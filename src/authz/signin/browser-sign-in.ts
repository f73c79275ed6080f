/**
 * Browser sign-in at the ingress: which workloads sign in, the session cookie as a request identity
 * (decided like a verified JWT by the same policies), and the sign-in steps on the application's host
 * under `pathPrefix` (`start`, `callback`, `sign_out`), each answered as a CheckResult that every
 * transport can carry: a 302 with Location and Set-Cookie, or a page.
 *
 * The session is a sealed cookie (cookie-seal.ts), not an id backed by storage: every filter replica
 * decides on it with no storage read on the hot path. It is still revocable: it carries the ID token's
 * `sid`, its own `jti` and `iat`, which the revocation feed's deny-list matches (sign-out writes a
 * `jti` revocation, back-channel logout and the issuer's session revocations a `sid` one).
 */
import type { JWTPayload } from 'jose';
import type { CheckInput, CheckResult, HeaderToSet } from '../check-input.js';
import type { FilterConfig, JwtRuleSpec } from '../config.js';
import type { Authentication } from '../jwt/authenticate.js';
import type { TokenLocation } from '../jwt/locate-token.js';
import { TokenCache } from '../jwt/token-cache.js';
import { selects, type TargetWorkload } from '../policy/policy-set.js';
import type { RevocationCheck } from '../revocations.js';
import type { SignInConfig } from './config.js';
import { CookieSealer } from './cookie-seal.js';
import {
  clearCookie, cookieDomainFor, cookieValues, hostnameOf, isSecure, MAX_COOKIE_BYTES, sessionScope, setCookie, stateCookieName, type CookieAttributes,
} from './cookies.js';
import { OidcClient, SignInError } from './oidc-client.js';
import { pageHeaders, renderSignInPage, type SignInPage } from './page.js';
import { originOf, sameSiteReturnURL } from './return-url.js';
import type { RevokeSession } from './revoke.js';

/** Claims of the ID token that describe the token, not the person: the session has its own iat, exp and jti. */
const TOKEN_ONLY_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash', 'exp', 'iat', 'nbf', 'jti']);

/** A return URL longer than this is not kept (the state cookie must stay small): the sign-in goes back to "/". */
const MAX_RETURN_URL = 2048;

/** What a sign-in in progress keeps in its state cookie. */
interface PendingSignIn {
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  /** Epoch seconds. */
  exp: number;
}

export interface CookieAuthentication {
  auth: Authentication;
  /** A session cookie was sent but is not good (tampered, expired, another domain's, revoked): clear it. */
  stale: boolean;
}

export interface BrowserSignInOptions {
  config: SignInConfig;
  filter: Pick<FilterConfig, 'rootNamespace' | 'tokenCache' | 'jwks'>;
  now: () => number;
  revocations?: RevocationCheck;
  revoke: RevokeSession;
}

/**
 * A browser navigation: GET or HEAD, asking for HTML, without an Authorization header, and (when the
 * browser says) a top-level navigation rather than a script's fetch, which could not follow a
 * redirect to another origin anyway.
 */
export function isBrowserNavigation(input: CheckInput): boolean {
  if (input.method !== 'GET' && input.method !== 'HEAD') return false;
  const { accept, authorization } = input.headers;
  if (authorization !== undefined || accept === undefined || !accept.toLowerCase().includes('text/html')) return false;
  const mode = input.headers['sec-fetch-mode'];
  return mode === undefined || mode === 'navigate';
}

export class BrowserSignIn {
  readonly client: OidcClient;
  private readonly sealer: CookieSealer;
  private readonly sessions: TokenCache;
  private readonly signingIn = new WeakMap<object, boolean>();
  private readonly rule: JwtRuleSpec;
  private readonly location: TokenLocation;

  constructor(private readonly options: BrowserSignInOptions) {
    const { config } = options;
    if (!config.clientSecret) throw new Error('filter.signIn.clientSecretEnv: the client secret was not read');
    if (!config.cookie.secret) throw new Error('filter.signIn.cookie.secretEnv: the cookie secret was not read');
    this.sealer = new CookieSealer(config.cookie.secret);
    this.sessions = new TokenCache(options.filter.tokenCache);
    this.client = new OidcClient({
      issuer: config.issuer, clientID: config.clientID, clientSecret: config.clientSecret, now: options.now,
      timeoutSeconds: Math.max(1, Math.ceil(options.filter.jwks.fetchTimeout / 1000)),
    });
    this.rule = Object.freeze({ issuer: config.issuer });
    this.location = Object.freeze({ kind: 'cookie', name: config.cookie.name });
  }

  get config(): SignInConfig {
    return this.options.config;
  }

  /** Whether a workload's browser requests sign in (memoized per workload view, which is immutable). */
  signsIn(target: TargetWorkload, view: object): boolean {
    let answer = this.signingIn.get(view);
    if (answer !== undefined) return answer;
    const { workloads } = this.options.config;
    const root = this.options.filter.rootNamespace;
    answer = workloads.length === 0 || workloads.some((w) => (w.namespace === root || w.namespace === target.namespace) && selects(w.labels, target.labels));
    this.signingIn.set(view, answer);
    return answer;
  }

  /** True for a (normalized) path that is one of the sign-in endpoints' (the prefix is reserved on signing-in hosts). */
  isEndpoint(path: string): boolean {
    return path.startsWith(this.options.config.pathPrefix);
  }

  /** The session cookie as an identity: authenticated when one of the sent values opens, is unexpired and not revoked. */
  authenticate(input: CheckInput): CookieAuthentication {
    const values = cookieValues(input.headers.cookie, this.options.config.cookie.name);
    if (values.length === 0) return { auth: { kind: 'anonymous' }, stale: false };
    const scope = sessionScope(this.options.config.cookie, input.host);
    const now = this.options.now();
    for (const value of values) {
      const payload = this.openSession(value, scope, now);
      if (payload && !this.options.revocations?.isRevoked(payload)) {
        return { auth: { kind: 'authenticated', payload, rule: this.rule, location: this.location, token: value, kept: true }, stale: false };
      }
    }
    return { auth: { kind: 'anonymous' }, stale: true };
  }

  private openSession(value: string, scope: string, now: number): JWTPayload | undefined {
    const cached = this.sessions.get(value, now);
    if (cached) return cached.keySource === scope ? cached.payload : undefined;
    if (value.length > MAX_COOKIE_BYTES) return undefined;
    const payload = this.sealer.open('session', scope, value) as JWTPayload | undefined;
    if (!isSessionPayload(payload) || payload.iss !== this.options.config.issuer || payload.exp * 1000 <= now) return undefined;
    this.sessions.set(value, { payload, keySource: scope, expiresAt: payload.exp * 1000 });
    return payload;
  }

  /** The answer to a browser that needs to sign in: a 302 to the issuer, with the sign-in's state cookie. */
  async redirectToSignIn(input: CheckInput, stale: boolean): Promise<CheckResult> {
    const origin = originOf(input.scheme, input.host);
    const target = `${origin}${input.path}`;
    return this.begin(input, origin, target.length > MAX_RETURN_URL ? `${origin}/` : target, stale);
  }

  /** One of the endpoints under pathPrefix; `path` is the normalized path. */
  async serve(input: CheckInput, path: string, stale: boolean): Promise<CheckResult> {
    const origin = originOf(input.scheme, input.host);
    const query = new URLSearchParams(queryOf(input.path));
    switch (path.slice(this.options.config.pathPrefix.length)) {
      case 'start':
        return this.begin(input, origin, sameSiteReturnURL(query.get('rd'), origin, this.options.config.cookie) ?? `${origin}/`, stale);
      case 'callback':
        return this.callback(input, origin, `${origin}${path}${input.path.includes('?') ? `?${queryOf(input.path)}` : ''}`, query);
      case 'sign_out':
        return this.signOut(input, origin, query);
      default:
        return this.page(404, 'signin_not_found', [], { title: 'Not found', lead: 'There is no sign-in page at this address.', link: { href: `${origin}/`, text: 'Go to the start page' } });
    }
  }

  private async begin(input: CheckInput, origin: string, returnTo: string, stale: boolean): Promise<CheckResult> {
    const { config } = this.options;
    let start;
    try {
      start = await this.client.startAuthorization(`${origin}${config.pathPrefix}callback`, config.scopes);
    } catch (error) {
      if (!(error instanceof SignInError)) throw error;
      return this.unavailable(origin, returnTo);
    }
    const pending: PendingSignIn = {
      nonce: start.nonce, codeVerifier: start.codeVerifier, returnTo,
      exp: Math.floor((this.options.now() + config.signInTimeout) / 1000),
    };
    const cookies = [setCookie(stateCookieName(config.cookie, start.state), this.sealer.seal('state', stateScope(input.host, start.state), pending), {
      ...this.stateAttributes(input), maxAgeSeconds: Math.floor(config.signInTimeout / 1000),
    })];
    if (stale) cookies.push(this.clearSession(input));
    return this.redirect(start.url, 'signin_redirect', cookies, 'Sign in to continue');
  }

  private async callback(input: CheckInput, origin: string, callbackURL: string, query: URLSearchParams): Promise<CheckResult> {
    const { config } = this.options;
    const state = query.get('state');
    const restart = { href: `${origin}/`, text: 'Start again' };
    const expired: SignInPage = { title: 'Sign-in expired', lead: 'This sign-in was not started in this browser, or it has already finished or timed out. Start again from the application.', link: restart };
    if (!state || !/^[A-Za-z0-9_-]{16,128}$/.test(state)) return this.page(400, 'signin_state_invalid', [], expired);
    const stateName = stateCookieName(config.cookie, state);
    const clearState = clearCookie(stateName, this.stateAttributes(input));
    const pending = cookieValues(input.headers.cookie, stateName)
      .map((value) => this.sealer.open('state', stateScope(input.host, state), value) as PendingSignIn | undefined)
      .find((value) => isPendingSignIn(value) && value.exp * 1000 > this.options.now());
    if (!pending) return this.page(400, 'signin_state_invalid', [clearState], expired);
    const back = { href: pending.returnTo, text: 'Try again' };
    if (query.has('error')) {
      const cancelled = query.get('error') === 'access_denied';
      return this.page(400, 'signin_refused', [clearState], {
        title: cancelled ? 'Sign-in cancelled' : 'Sign-in failed',
        lead: cancelled ? 'Access was not granted, so you are not signed in.' : `The identity provider refused the sign-in (${query.get('error')?.slice(0, 64)}).`,
        link: back,
      });
    }
    let claims: Record<string, unknown>;
    try {
      claims = await this.client.finishAuthorization(callbackURL, { state, nonce: pending.nonce, codeVerifier: pending.codeVerifier });
    } catch (error) {
      if (!(error instanceof SignInError)) throw error;
      if (error.kind === 'unavailable') return this.unavailable(origin, pending.returnTo, [clearState]);
      return this.page(400, 'signin_refused', [clearState], { title: 'Sign-in failed', lead: 'The sign-in could not be completed: it may have been used already. Start again.', link: back });
    }
    const session = this.sealer.seal('session', sessionScope(config.cookie, input.host), this.sessionPayload(claims));
    if (config.cookie.name.length + 1 + session.length > MAX_COOKIE_BYTES) {
      return this.page(400, 'signin_cookie_too_large', [clearState], {
        title: 'Sign-in failed',
        lead: 'Your account has more claims (groups) than fit in a session cookie. Ask your administrator to request fewer scopes for this application.',
        link: back,
      });
    }
    const target = sameSiteReturnURL(pending.returnTo, origin, config.cookie) ?? `${origin}/`;
    return this.redirect(target, 'signin_callback', [setCookie(config.cookie.name, session, { ...this.sessionAttributes(input), maxAgeSeconds: Math.floor(config.cookie.lifetime / 1000) }), clearState], 'Continue');
  }

  private async signOut(input: CheckInput, origin: string, query: URLSearchParams): Promise<CheckResult> {
    const { config } = this.options;
    const { auth } = this.authenticate(input);
    if (auth.kind === 'authenticated') {
      const { jti, exp, sub } = auth.payload as { jti: string; exp: number; sub?: string };
      const now = this.options.now();
      await this.options.revoke({ id: `jti:${jti}`, kind: 'jti', value: jti, createdAt: now, expiresAt: exp * 1000, ...(sub ? { userId: sub } : {}) });
    }
    const target = sameSiteReturnURL(query.get('rd'), origin, config.cookie) ?? `${origin}/`;
    const endSession = config.endSessionOnSignOut ? await this.client.endSessionURL(target) : undefined;
    return this.redirect(endSession ?? target, 'signed_out', [this.clearSession(input)], 'Continue');
  }

  private sessionPayload(claims: Record<string, unknown>): JWTPayload {
    const payload: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(claims)) if (!TOKEN_ONLY_CLAIMS.has(name)) payload[name] = value;
    const now = Math.floor(this.options.now() / 1000);
    payload.jti = randomId();
    payload.iat = now;
    payload.exp = now + Math.floor(this.options.config.cookie.lifetime / 1000);
    return payload as JWTPayload;
  }

  private sessionAttributes(input: CheckInput): Omit<CookieAttributes, 'maxAgeSeconds'> {
    const { cookie } = this.options.config;
    const domain = cookieDomainFor(cookie, hostnameOf(input.host));
    return { path: '/', secure: isSecure(cookie, input.scheme), sameSite: cookie.sameSite, ...(domain ? { domain } : {}) };
  }

  /** Lax even when the session is Strict: the callback arrives as a navigation from the issuer's site. */
  private stateAttributes(input: CheckInput): Omit<CookieAttributes, 'maxAgeSeconds'> {
    return { path: this.options.config.pathPrefix, secure: isSecure(this.options.config.cookie, input.scheme), sameSite: 'Lax' };
  }

  private clearSession(input: CheckInput): string {
    return clearCookie(this.options.config.cookie.name, this.sessionAttributes(input));
  }

  private redirect(location: string, reason: string, cookies: string[], text: string): CheckResult {
    const headers: HeaderToSet[] = [{ name: 'location', value: location }, ...cookies.map((value) => ({ name: 'set-cookie', value })), ...pageHeaders(this.options.config.issuer)];
    const body = renderSignInPage(this.options.config.issuer, { title: text, lead: 'You are being redirected.', link: { href: location, text } });
    return signInResult(302, reason, headers, body);
  }

  private unavailable(origin: string, returnTo: string, cookies: string[] = []): CheckResult {
    return this.page(503, 'signin_unavailable', cookies, {
      title: 'Sign-in unavailable', lead: 'The sign-in service cannot be reached right now. Try again in a moment.', link: { href: returnTo.startsWith(origin) ? returnTo : `${origin}/`, text: 'Try again' },
    });
  }

  private page(status: CheckResult['status'], reason: string, cookies: string[], page: SignInPage): CheckResult {
    const headers = [...cookies.map((value) => ({ name: 'set-cookie', value })), ...pageHeaders(this.options.config.issuer)];
    return signInResult(status, reason, headers, renderSignInPage(this.options.config.issuer, page));
  }
}

function queryOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? '' : target.slice(q + 1);
}

function stateScope(host: string, state: string): string {
  return `host=${hostnameOf(host)}\n${state}`;
}

function randomId(): string {
  return crypto.getRandomValues(Buffer.alloc(16)).toString('base64url');
}

function isSessionPayload(value: unknown): value is JWTPayload & { iss: string; sub: string; exp: number; iat: number; jti: string } {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return typeof p.iss === 'string' && typeof p.sub === 'string' && typeof p.exp === 'number' && typeof p.iat === 'number' && typeof p.jti === 'string';
}

function isPendingSignIn(value: unknown): value is PendingSignIn {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return typeof p.nonce === 'string' && typeof p.codeVerifier === 'string' && typeof p.returnTo === 'string' && typeof p.exp === 'number';
}

/** A sign-in answer in the shape of every CheckResult (a deny: the request does not reach the upstream). */
export function signInResult(status: CheckResult['status'], reason: string, headers: HeaderToSet[], body: string): CheckResult {
  return {
    decision: 'deny', status, reason, body, headers, headersToRemove: [], queryParametersToRemove: [],
    jwtError: undefined, namespace: undefined, path: undefined,
    policy: undefined, rule: undefined, peerPrincipal: undefined, requestPrincipal: undefined, audit: undefined, shadow: undefined,
  };
}
