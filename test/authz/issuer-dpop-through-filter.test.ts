/**
 * End to end: a DPoP-bound access token that idgate's issuer mints (client_credentials with a DPoP
 * proof at /token, for a dpopBoundAccessTokens client) through the filter, which knows the issuer only
 * by its discovery document. openid-client holds the key, gets the token and makes the resource
 * request; the filter allows it with that client's proof only, and refuses the same token as Bearer,
 * with another key's proof, and a replay.
 */
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD_DB, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { checkVia, closeGrpcClient, type AnyRequest } from './helpers/any-transport.js';
import { dpopKey, dpopProof } from './helpers/dpop.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';

const MACHINE = { id: 'orders-job', secret: 'b3JkZXJzLWpvYi1jbGllbnQtc2VjcmV0LXZhbHVl' };

let idp: TestIssuer;
let fixture: FilterFixture;

beforeAll(async () => {
  idp = await startTestIssuer({
    configYaml: `storage: { type: memory }
audit: { stdout: false }
web: { http: 127.0.0.1:0 }
staticClients:
  - id: ${MACHINE.id}
    name: Orders job
    secret: ${MACHINE.secret}
    dpopBoundAccessTokens: true
    grantTypes: [client_credentials]
${ADMIN_PASSWORD_DB}`,
  });
  fixture = await startFilterFixture({
    'authn.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: idgate, namespace: istio-system }
spec:
  jwtRules: [{ issuer: "${idp.url}" }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: orders, namespace: default }
spec:
  rules:
  - from: [{ source: { requestPrincipals: ["${idp.url}/${MACHINE.id}"] } }]
    to: [{ operation: { paths: ["/orders/*"] } }]
    when: [{ key: request.auth.binding, values: [dpop] }]
`,
  });
});

afterAll(async () => {
  if (fixture) closeGrpcClient(fixture);
  await fixture?.close();
  await idp?.close();
});

const lastAudit = () => JSON.parse(fixture.audit[fixture.audit.length - 1]!) as Record<string, unknown>;

describe('an idgate-issued DPoP-bound token at the filter', () => {
  it('is allowed with its client\'s proof only', async () => {
    const config = await oidc.discovery(new URL(idp.url), MACHINE.id, MACHINE.secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const keyPair = await oidc.randomDPoPKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(config, keyPair);
    const tokens = await oidc.clientCredentialsGrant(config, {}, { DPoP: dpop });
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toMatchObject({ jkt: expect.any(String) });

    // The resource request openid-client makes, handed to the filter as Envoy would.
    const sent: Array<Record<string, string>> = [];
    config[oidc.customFetch] = async (_url, options) => {
      sent.push(Object.fromEntries(new Headers(options.headers as Record<string, string>).entries()));
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    };
    await oidc.fetchProtectedResource(config, tokens.access_token, new URL('http://app.example.com/orders/42'), 'GET', undefined, undefined, { DPoP: dpop });
    const request: AnyRequest = { path: '/orders/42', headers: { authorization: sent[0]!.authorization!, dpop: sent[0]!.dpop! } };
    const allowed = await checkVia('grpc', fixture, request);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['x-idgate-request-principal']).toBe(`${idp.url}/${MACHINE.id}`);

    expect((await checkVia('nginx', fixture, request)).status).toBe(401);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_PROOF_REPLAYED' });
    expect((await checkVia('grpc', fixture, { path: '/orders/42', headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_BOUND_AS_BEARER' });
    const thief = await dpopKey();
    const stolen = { path: '/orders/42', headers: { authorization: `DPoP ${tokens.access_token}`, dpop: await dpopProof(thief, 'GET', 'http://app.example.com/orders/42', tokens.access_token) } };
    expect((await checkVia('envoy-http', fixture, stolen)).status).toBe(401);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_KEY_MISMATCH' });
  });
});
