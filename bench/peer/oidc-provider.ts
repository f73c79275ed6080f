/**
 * oidc-provider 9 (panva's certified Node OP) as bench:token-peer's peer, in its own process so its
 * CPU can be read from /proc: the same provider the OIDC connector's tests use as an upstream
 * (test/connectors/oidc/upstream-idp.ts), with one account and one confidential client, its default
 * in-memory adapter, and refresh tokens rotated on every use as idgate rotates them. `--jwt` makes it
 * issue JWT access tokens (RFC 9068, through resource indicators) so a grant signs two JWTs as
 * idgate's does; by default it signs one (the ID token) and its access token is opaque.
 * Sends `{ issuer, clientId, clientSecret }` to its parent over IPC once it listens.
 */
import { startUpstreamIdP } from '../../test/connectors/oidc/upstream-idp.js';

export const PEER_REDIRECT_URI = 'http://127.0.0.1:5555/callback';
export const PEER_RESOURCE = 'https://api.bench.example';

const jwtAccessTokens = process.argv.includes('--jwt');
const idp = await startUpstreamIdP({
  redirectURIs: [PEER_REDIRECT_URI],
  configuration: {
    rotateRefreshToken: true,
    ...(jwtAccessTokens ? {
      features: {
        resourceIndicators: {
          enabled: true,
          defaultResource: () => PEER_RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: 'openid email offline_access', audience: PEER_RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
    } : {}),
  },
});
idp.accounts.set('bench-user', { sub: 'bench-user', name: 'Bench User', email: 'bench@example.com', email_verified: true, groups: ['staff'] });
idp.nextAccount = 'bench-user';
process.send!({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret });
process.on('disconnect', () => void idp.close().then(() => process.exit(0)));
