/**
 * OpenID Connect Back-Channel Logout 1.0, the filter as the relying party: the issuer POSTs a signed
 * logout token when a session ends, and every app session cookie of that session (`sid`), or of that
 * user (`sub` alone), is revoked through the revocation feed. The token is checked as §2.6 says:
 * signature by the issuer's keys, iss, aud (the filter's client), iat, a backchannel-logout event, sid
 * or sub, no nonce, and `typ` logout+jwt when present.
 */
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { VerificationKeySet } from '../../keys/keyset.js';
import { subjectKey } from '../../storage/storage.js';
import type { JwsAlgorithm } from '../config.js';
import type { SignInConfig } from './config.js';
import type { OidcClient } from './oidc-client.js';
import type { RevokeSession } from './revoke.js';

export const BACKCHANNEL_LOGOUT_PATH = '/signin/backchannel_logout';
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface BackchannelLogoutOptions {
  config: SignInConfig;
  client: OidcClient;
  algorithms: readonly JwsAlgorithm[];
  clockSkewMs: number;
  now: () => number;
  revoke: RevokeSession;
  /** idgate's own keys when the issuer shares the process (and is the sign-in issuer). */
  keySet?: VerificationKeySet;
  ownIssuer?: string;
}

export interface LogoutAnswer {
  status: 200 | 400 | 503;
  /** RFC 6749 §5.2-style error body, or empty. */
  body: string;
}

export class BackchannelLogout {
  private remoteKeys: JWTVerifyGetKey | undefined;

  constructor(private readonly options: BackchannelLogoutOptions) {}

  private async keys(): Promise<JWTVerifyGetKey> {
    const { keySet, ownIssuer, config } = this.options;
    if (keySet && ownIssuer === config.issuer) return createLocalJWKSet(await keySet.jwks());
    if (!this.remoteKeys) {
      const uri = await this.options.client.jwksURI();
      if (!uri) throw new Error('the issuer has no jwks_uri');
      this.remoteKeys = createRemoteJWKSet(new URL(uri));
    }
    return this.remoteKeys;
  }

  async handle(form: URLSearchParams): Promise<LogoutAnswer> {
    const token = form.get('logout_token');
    if (!token) return refused('invalid_request', 'logout_token is missing');
    let keys: JWTVerifyGetKey;
    try {
      keys = await this.keys();
    } catch {
      return { status: 503, body: JSON.stringify({ error: 'temporarily_unavailable', error_description: 'the issuer keys cannot be fetched' }) };
    }
    const { config, now } = this.options;
    let payload;
    try {
      const verified = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: config.clientID,
        algorithms: [...this.options.algorithms],
        clockTolerance: this.options.clockSkewMs / 1000,
        currentDate: new Date(now()),
        requiredClaims: ['iat'],
      });
      const typ = verified.protectedHeader.typ?.toLowerCase();
      if (typ !== undefined && typ !== 'logout+jwt' && typ !== 'application/logout+jwt') return refused('invalid_request', 'the token is not a logout token (typ)');
      payload = verified.payload;
    } catch {
      return refused('invalid_request', 'the logout token does not verify');
    }
    const events = payload.events as Record<string, unknown> | undefined;
    if (typeof events !== 'object' || events === null || typeof events[LOGOUT_EVENT] !== 'object') return refused('invalid_request', 'the token has no back-channel logout event');
    if (payload.nonce !== undefined) return refused('invalid_request', 'a logout token must not have a nonce');
    const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
    const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
    if (!sid && !sub) return refused('invalid_request', 'the logout token names neither sid nor sub');
    const at = now();
    const expiresAt = at + config.cookie.lifetime;
    if (sid) await this.options.revoke({ id: `sid:${sid}`, kind: 'sid', value: sid, createdAt: at, expiresAt });
    else {
      const value = subjectKey(config.issuer, sub!);
      await this.options.revoke({ id: `sub:${value}`, kind: 'sub', value, createdAt: at, expiresAt });
    }
    return { status: 200, body: '' };
  }
}

function refused(error: string, description: string): LogoutAnswer {
  return { status: 400, body: JSON.stringify({ error, error_description: description }) };
}
