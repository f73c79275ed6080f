/**
 * Verifying an upstream token for the token exchange grant (Dex's TokenIdentity): an ID token is
 * checked as a login checks one (signature against the upstream JWKS, iss, aud = clientID, exp); an
 * access token is opaque to us, so the upstream's userinfo endpoint is what accepts it (getUserInfo,
 * as Dex requires). Either way the claims then go through the same mapping as a login.
 */
import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type FetchImplementation } from 'jose';
import * as client from 'openid-client';
import { ConnectorError, type SubjectTokenType } from '../../src/connector.js';
import type { Claims } from './claims.js';
import type { OIDCConfig } from './config.js';
import { upstreamError } from './upstream.js';

export interface VerifiedUpstreamToken {
  claims: Claims;
  /** The ID token's exp; unknown for an access token. */
  expiresAt?: number;
}

/** JOSE errors that mean the upstream could not be asked, not that the token is bad. */
const UNREACHABLE = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

/** jose hands its fetch a Headers object; the connector's fetch (root CAs, tracing) takes a plain record. */
function joseFetch(configuration: client.Configuration): FetchImplementation | undefined {
  const upstreamFetch = configuration[client.customFetch];
  if (!upstreamFetch) return undefined;
  return (url, options) => upstreamFetch(url, { ...options, headers: Object.fromEntries(options.headers), body: undefined });
}

export class UpstreamTokenVerifier {
  /** One key set per JWKS URL: jose caches the keys and refetches on an unknown kid, with a cooldown. */
  private keys: { uri: string; keySet: ReturnType<typeof createRemoteJWKSet> } | undefined;

  constructor(
    private readonly config: Pick<OIDCConfig, 'clientID' | 'getUserInfo' | 'upstreamTimeout'>,
    private readonly now: () => number,
  ) {}

  async verify(configuration: client.Configuration, type: SubjectTokenType, token: string): Promise<VerifiedUpstreamToken> {
    if (type === 'urn:ietf:params:oauth:token-type:id_token') return this.verifyIdToken(configuration, token);
    if (!this.config.getUserInfo) {
      throw new ConnectorError('misconfigured', 'exchanging an upstream access token needs getUserInfo: true on the connector (its userinfo endpoint is what verifies the token)');
    }
    try {
      return { claims: await client.fetchUserInfo(configuration, token, client.skipSubjectCheck) };
    } catch (error) {
      throw upstreamError(error, 'userinfo');
    }
  }

  private keySet(configuration: client.Configuration) {
    const uri = configuration.serverMetadata().jwks_uri;
    if (!uri) throw new ConnectorError('misconfigured', 'the identity provider publishes no jwks_uri, so its ID tokens cannot be verified');
    if (this.keys?.uri !== uri) {
      const fetchWith = joseFetch(configuration);
      this.keys = {
        uri,
        keySet: createRemoteJWKSet(new URL(uri), { timeoutDuration: this.config.upstreamTimeout, ...(fetchWith && { [customFetch]: fetchWith }) }),
      };
    }
    return this.keys.keySet;
  }

  private async verifyIdToken(configuration: client.Configuration, token: string): Promise<VerifiedUpstreamToken> {
    const metadata = configuration.serverMetadata();
    // OIDC Discovery: RS256 when the upstream does not say; never "none".
    const algorithms = (metadata.id_token_signing_alg_values_supported ?? ['RS256']).filter((alg) => alg !== 'none');
    try {
      const { payload } = await jwtVerify(token, this.keySet(configuration), {
        issuer: metadata.issuer,
        // Dex skips this check for exchanged tokens; an ID token minted for another relying party is
        // that party's, so only one whose audience is this connector's client counts.
        audience: this.config.clientID,
        algorithms,
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: new Date(this.now()),
      });
      return { claims: payload, expiresAt: payload.exp! };
    } catch (error) {
      if (error instanceof ConnectorError) throw error;
      if (error instanceof joseErrors.JOSEError && !UNREACHABLE.has(error.code)) {
        throw new ConnectorError('invalid_response', `the upstream ID token was refused: ${error.message}`, { cause: error });
      }
      throw upstreamError(error, 'JWKS');
    }
  }
}
