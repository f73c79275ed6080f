/**
 * Signing in to the console through idgate's own issuer, with openid-client as the relying party: the
 * authorization code flow with PKCE (S256), state and nonce, the console authenticating as its
 * confidential client (client_secret_basic). The issuer's metadata is discovered on first use and
 * again after a failure, so the console starts before (or without) the issuer answering.
 */
import type { Context } from 'koa';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import type { ConsoleSession } from '../../../storage/storage.js';
import { CONSOLE_PATH, consoleRedirectURI, type ConsoleConfig } from '../config.js';
import { messagePage, sendConsolePage } from '../pages/layout.js';
import type { ConsoleSessions } from './session.js';

/** The scopes asked for: groups decide the role, email and profile name the person. */
export const CONSOLE_SCOPES = 'openid email profile groups';

/** Only a path of the console itself is a place to return to after sign-in (never another origin). */
export function safeReturnTo(value: string | undefined): string {
  return value && value.startsWith(`${CONSOLE_PATH}/`) && !value.startsWith('//') && !/[\\\s]/.test(value) ? value : `${CONSOLE_PATH}/`;
}

export class ConsoleSignIn {
  private discovered: Promise<client.Configuration> | undefined;

  constructor(
    private readonly issuer: string,
    private readonly settings: ConsoleConfig & { clientSecret: string },
    private readonly sessions: ConsoleSessions,
    private readonly logger: Logger,
  ) {}

  private configuration(): Promise<client.Configuration> {
    this.discovered ??= client
      .discovery(new URL(this.issuer), this.settings.clientID, undefined, client.ClientSecretBasic(this.settings.clientSecret), {
        // An http issuer is only ever a local one (the config refuses others for clients); openid-client wants it said.
        ...(new URL(this.issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
      })
      .catch((error: unknown) => {
        this.discovered = undefined;
        throw error;
      });
    return this.discovered;
  }

  /** GET /console/login: off to the issuer, with a fresh state, nonce and PKCE verifier kept for the callback. */
  async start(ctx: Context): Promise<void> {
    let configuration: client.Configuration;
    try {
      configuration = await this.configuration();
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message }, issuer: this.issuer }, 'console sign-in: issuer discovery failed');
      sendConsolePage(ctx, 503, messagePage('Sign-in unavailable', `The issuer ${this.issuer} cannot be reached right now. Try again in a moment.`, { href: `${CONSOLE_PATH}/login`, label: 'Try again' }));
      return;
    }
    const codeVerifier = client.randomPKCECodeVerifier();
    const pending = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier, returnTo: safeReturnTo(typeof ctx.query.returnTo === 'string' ? ctx.query.returnTo : undefined) };
    await this.sessions.beginSignIn(ctx, pending);
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: consoleRedirectURI(this.settings),
      scope: CONSOLE_SCOPES,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url.href);
  }

  /**
   * GET <redirectPath>: the authorization response. The sign-in record is taken once; state, nonce,
   * PKCE and the ID token are checked by openid-client. Any failure is a page that says what happened.
   */
  async callback(ctx: Context): Promise<NonNullable<ConsoleSession['user']> & { returnTo: string } | undefined> {
    const pending = await this.sessions.takeSignIn(ctx);
    const again = { href: `${CONSOLE_PATH}/login`, label: 'Sign in again' };
    if (typeof ctx.query.error === 'string') {
      const reason = typeof ctx.query.error_description === 'string' ? ctx.query.error_description : ctx.query.error;
      sendConsolePage(ctx, 403, messagePage('Sign-in refused', `The issuer did not sign you in: ${reason}.`, again));
      return undefined;
    }
    if (!pending) {
      sendConsolePage(ctx, 400, messagePage('Sign-in expired', 'This sign-in was not started in this browser, took too long, or was already used.', again));
      return undefined;
    }
    let claims: client.IDToken | undefined;
    try {
      const configuration = await this.configuration();
      const currentUrl = new URL(ctx.originalUrl, this.settings.publicURL);
      const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      // errorCode, not code: the logger redacts every `code` field.
      this.logger.warn({ err: { message: (error as Error).message }, errorCode: (error as { code?: string }).code }, 'console sign-in: authorization response refused');
      sendConsolePage(ctx, 400, messagePage('Sign-in failed', 'The answer from the issuer could not be verified, so you are not signed in.', again));
      return undefined;
    }
    if (!claims) return undefined;
    const groups = Array.isArray(claims.groups) ? claims.groups.filter((g): g is string => typeof g === 'string') : [];
    const name = [claims.name, claims.preferred_username, claims.email, claims.sub].find((v): v is string => typeof v === 'string' && v !== '')!;
    return { subject: claims.sub, name, ...(typeof claims.email === 'string' ? { email: claims.email } : {}), groups, returnTo: pending.returnTo };
  }
}
