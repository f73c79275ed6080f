// The oidc connector refuses every forged or wrong upstream answer, each with its reason: ID tokens
// with a bad signature, wrong nonce, issuer, audience or expiry; a wrong RFC 9207 iss; a forged state;
// a code replayed with another login's PKCE verifier; an upstream error answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal } from '../context.js';
import { CALLBACK, scopes, startOIDCBed, type OIDCBed } from './harness.js';
import type { UpstreamIdP } from './upstream-idp.js';

let bed: OIDCBed;
let idp: UpstreamIdP;
beforeAll(async () => {
  bed = await startOIDCBed();
  ({ idp } = bed);
});
afterAll(async () => bed?.close());
const open: OIDCBed['open'] = (config, upstream) => bed.open(config, upstream);
const login: OIDCBed['login'] = (connector, options) => bed.login(connector, options);
const tamperingTokenEndpoint: OIDCBed['tamperingTokenEndpoint'] = (change, seen) => bed.tamperingTokenEndpoint(change, seen);

describe('oidc connector: refused upstream answers', () => {
  const cases: Array<[string, { claims?: Record<string, unknown>; breakSignature?: boolean }, RegExp]> = [
    ['an ID token with a bad signature', { breakSignature: true }, /signature/i],
    ['an ID token with the wrong nonce', { claims: { nonce: 'not-the-nonce-we-sent' } }, /"nonce" claim/],
    ['an ID token from the wrong issuer', { claims: { iss: 'http://127.0.0.1:1/evil' } }, /"iss" \(issuer\) claim/],
    ['an ID token for another audience', { claims: { aud: 'another-client' } }, /"aud" \(audience\) claim/],
    ['an expired ID token', { claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }, /"exp"/],
  ];
  for (const [name, change, reason] of cases) {
    it(`refuses ${name}`, async () => {
      const tokenURL = await tamperingTokenEndpoint(change);
      const connector = await open({ providerDiscoveryOverrides: { tokenURL } });
      const error = await refusal((await login(connector)).identity());
      expect(error.code).toBe('invalid_response');
      expect(error.message).toMatch(reason);
    });
  }

  it('accepts the same ID token passed through the proxy unchanged (the proxy itself is not the failure)', async () => {
    const tokenURL = await tamperingTokenEndpoint({ claims: {} });
    const identity = await (await login(await open({ providerDiscoveryOverrides: { tokenURL } }))).identity();
    expect(identity.userId).toBe('alice');
  });

  it('refuses an authorization response whose RFC 9207 iss is not the upstream', async () => {
    const connector = await open({});
    const attempt = await login(connector);
    attempt.callback.searchParams.set('iss', 'http://127.0.0.1:1/evil');
    const error = await refusal(connector.handleCallback(scopes, attempt.connectorData, { url: attempt.callback }));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/"iss"/);
  });

  it('refuses a callback whose state is not the one sent', async () => {
    const connector = await open({});
    const attempt = await login(connector);
    attempt.callback.searchParams.set('state', 'forged');
    const error = await refusal(connector.handleCallback(scopes, attempt.connectorData, { url: attempt.callback }));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/"state"/);
  });

  it('refuses a code replayed with the PKCE verifier of another login', async () => {
    const connector = await open({});
    const first = await login(connector);
    const second = await login(connector);
    const error = await refusal(connector.handleCallback(scopes, second.connectorData, { url: first.callback }));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/invalid_grant/);
  });

  it('reports an upstream error answer (error=access_denied) as a refusal', async () => {
    const connector = await open({});
    const { connectorData } = await connector.loginURL(scopes, CALLBACK, 'state-123');
    const url = new URL(`${CALLBACK}?error=access_denied&error_description=user+cancelled&state=state-123&iss=${encodeURIComponent(idp.issuer)}`);
    const error = await refusal(connector.handleCallback(scopes, connectorData, { url }));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/user cancelled/);
  });
});

