// The rules a client assertion (RFC 7523 §3) must pass, one negative test each, with assertions made
// here with jose so every claim can be wrong on purpose. A refresh_token request with a made-up token
// tells the two outcomes apart: 401 invalid_client when authentication fails, 400 invalid_grant after
// it passed.
import { randomUUID } from 'node:crypto';
import { base64url, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashSecret } from '../../src/storage/secrets.js';
import { createPostgresBackend } from '../../src/storage/postgres.js';
import { createStorage } from '../../src/storage/records.js';
import { freePort } from '../helpers/free-port.js';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { HMAC_SECRET, jwtClientsConfig, keyPair, startJwtClientsBed, type JwtClientsBed, type KeyPair, type KeyServer } from '../helpers/jwt-clients.js';
import { dropSchema, randomSchemaName, requirePostgres, testConfig } from '../storage/postgres-helpers.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let bed: JwtClientsBed;
let idp: TestIssuer;
let inline: KeyPair;
let remote: KeyPair;
let keyServer: KeyServer;

beforeAll(async () => {
  bed = await startJwtClientsBed('RS256');
  ({ idp, inline, remote, keyServer } = bed);
});
afterAll(() => bed.close());

interface AssertionOptions {
  clientId?: string;
  key?: CryptoKey | Uint8Array;
  alg?: string;
  kid?: string;
  claims?: Record<string, unknown>;
  /** Claims to leave out. */
  omit?: string[];
  issuer?: TestIssuer;
}

async function assertion(options: AssertionOptions = {}): Promise<string> {
  const clientId = options.clientId ?? 'inline-keys';
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: clientId, sub: clientId, aud: (options.issuer ?? idp).url, jti: randomUUID(), iat: now, exp: now + 60, ...options.claims,
  };
  for (const name of options.omit ?? []) delete claims[name];
  const alg = options.alg ?? 'ES256';
  return new SignJWT(claims).setProtectedHeader({ alg, ...(options.kid === '' ? {} : { kid: options.kid ?? 'inline-1' }) }).sign(options.key ?? inline.privateKey);
}

interface Outcome {
  status: number;
  error?: string;
  description?: string;
}

async function post(form: Record<string, string>, options: { path?: string; headers?: Record<string, string>; issuer?: TestIssuer } = {}): Promise<Outcome> {
  const path = options.path ?? '/token';
  const base: Record<string, string> = path === '/token' ? { grant_type: 'refresh_token', refresh_token: 'made.up' } : { token: 'made-up' };
  const response = await fetch(`${(options.issuer ?? idp).url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    body: new URLSearchParams({ ...base, ...form }),
  });
  const text = await response.text();
  const body = text ? (JSON.parse(text) as { error?: string; error_description?: string }) : {};
  return { status: response.status, ...(body.error ? { error: body.error, description: body.error_description } : {}) };
}

const withAssertion = (jwt: string, extra: Record<string, string> = {}) => ({ client_assertion_type: JWT_BEARER, client_assertion: jwt, ...extra });
const PASSED: Outcome = { status: 400, error: 'invalid_grant', description: 'refresh token is invalid, expired or revoked' };
const refused = (description: string | RegExp) => ({ status: 401, error: 'invalid_client', description: typeof description === 'string' ? description : expect.stringMatching(description) });

describe('private_key_jwt', () => {
  it('authenticates with aud = the issuer, the token endpoint, or a list that holds one', async () => {
    expect(await post(withAssertion(await assertion()))).toEqual(PASSED);
    expect(await post(withAssertion(await assertion({ claims: { aud: `${idp.url}/token` } })))).toEqual(PASSED);
    expect(await post(withAssertion(await assertion({ claims: { aud: ['https://elsewhere.example', idp.url] } })))).toEqual(PASSED);
  });

  it('names the client by the assertion sub when client_id is absent, and requires them to agree when present', async () => {
    expect(await post(withAssertion(await assertion()))).toEqual(PASSED);
    expect(await post(withAssertion(await assertion(), { client_id: 'inline-keys' }))).toEqual(PASSED);
    expect(await post(withAssertion(await assertion({ claims: { sub: 'someone-else' } }), { client_id: 'inline-keys' })))
      .toEqual(refused('client_assertion sub must be the client_id'));
  });

  it('refuses an aud that is another server, or another endpoint than the one called', async () => {
    expect(await post(withAssertion(await assertion({ claims: { aud: 'https://other-issuer.example' } }))))
      .toEqual(refused(`client_assertion aud must be the issuer (${idp.url})`));
    const revocationAud = `${idp.url}/token/revoke`;
    expect(await post(withAssertion(await assertion({ claims: { aud: revocationAud } })))).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(await post(withAssertion(await assertion({ claims: { aud: revocationAud } })), { path: '/token/revoke' })).toEqual({ status: 200 });
  });

  it('refuses an expired assertion, one without exp, and one valid for longer than five minutes', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await post(withAssertion(await assertion({ claims: { exp: now - 120 } })))).toEqual(refused('client_assertion has expired'));
    expect(await post(withAssertion(await assertion({ omit: ['exp'] })))).toEqual(refused('client_assertion exp is required'));
    expect(await post(withAssertion(await assertion({ claims: { exp: now + 3600 } }))))
      .toEqual(refused('client_assertion exp is too far ahead (at most 5 minutes from now)'));
    expect(await post(withAssertion(await assertion({ claims: { exp: now + 290 } })))).toEqual(PASSED);
  });

  it('refuses nbf and iat in the future, beyond the clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await post(withAssertion(await assertion({ claims: { nbf: now + 120 } })))).toEqual(refused('client_assertion is not valid yet (nbf)'));
    expect(await post(withAssertion(await assertion({ claims: { iat: now + 120 } })))).toEqual(refused('client_assertion iat is in the future'));
    expect(await post(withAssertion(await assertion({ claims: { nbf: now + 10, iat: now + 10 } })))).toEqual(PASSED);
  });

  it('requires a jti and refuses a replayed one', async () => {
    expect(await post(withAssertion(await assertion({ omit: ['jti'] })))).toEqual(refused('client_assertion jti is required'));
    const once = await assertion();
    expect(await post(withAssertion(once))).toEqual(PASSED);
    expect(await post(withAssertion(once))).toEqual(refused('client_assertion was already used (its jti was seen before)'));
    // The jti is per client, and a fresh assertion with a fresh jti passes.
    expect(await post(withAssertion(await assertion()))).toEqual(PASSED);
  });

  it('spends a jti only on an assertion that passed every other check', async () => {
    const jti = randomUUID();
    const stranger = await keyPair('ES256', 'inline-1');
    expect(await post(withAssertion(await assertion({ key: stranger.privateKey, claims: { jti } })))).toEqual(refused('client_assertion signature is invalid'));
    expect(await post(withAssertion(await assertion({ claims: { jti, aud: 'https://other.example' } })))).toMatchObject({ status: 401 });
    expect(await post(withAssertion(await assertion({ claims: { jti } })))).toEqual(PASSED);
  });

  it('refuses an assertion whose iss is not the client', async () => {
    expect(await post(withAssertion(await assertion({ claims: { iss: 'someone-else' } })))).toEqual(refused('client_assertion iss must be the client_id'));
  });

  it('refuses alg "none"', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'inline-keys', sub: 'inline-keys', aud: idp.url, jti: randomUUID(), exp: now + 60 };
    const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${base64url.encode(JSON.stringify(claims))}.`;
    expect(await post(withAssertion(unsigned))).toEqual(refused('client_assertion must be signed (alg "none" is refused)'));
  });

  it('refuses an HMAC for a private_key_jwt client, whatever key it was made with (no public key as a secret)', async () => {
    const publicKeyBytes = new TextEncoder().encode(JSON.stringify(inline.jwk));
    expect(await post(withAssertion(await assertion({ alg: 'HS256', key: publicKeyBytes }))))
      .toEqual(refused('client "inline-keys" must authenticate with private_key_jwt (its tokenEndpointAuthMethod), not client_secret_jwt'));
  });

  it('refuses an asymmetric algorithm outside the allow-list', async () => {
    const { privateKey } = await generateKeyPair('ES384');
    expect(await post(withAssertion(await assertion({ alg: 'ES384', key: privateKey }))))
      .toEqual(refused('client_assertion alg is not accepted for private_key_jwt (accepted: RS256, PS256, ES256, EdDSA, Ed25519)'));
  });

  it('refuses an assertion signed with a key that is not in the client\'s jwks', async () => {
    const other = await keyPair('ES256', 'not-registered');
    expect(await post(withAssertion(await assertion({ key: other.privateKey, kid: 'not-registered' }))))
      .toEqual(refused("no key of the client's registered keys matches the client_assertion (kid, alg)"));
  });

  it('tries each matching key when the assertion names no kid', async () => {
    const first = await keyPair('ES256', 'unused');
    const second = await keyPair('ES256', 'unused');
    const withoutKid = [first, second].map(({ jwk: { kid: _kid, ...jwk } }) => jwk);
    const twoKeys = await startTestIssuer({ configYaml: jwtClientsConfig({ inline: withoutKid, jwksURI: keyServer.url }) });
    try {
      const jwt = await assertion({ key: second.privateKey, kid: '', issuer: twoKeys });
      expect(await post(withAssertion(jwt), { issuer: twoKeys })).toEqual(PASSED);
      const stranger = await keyPair('ES256', 'unused');
      expect(await post(withAssertion(await assertion({ key: stranger.privateKey, kid: '', issuer: twoKeys })), { issuer: twoKeys }))
        .toEqual(refused('client_assertion signature is invalid'));
    } finally {
      await twoKeys.close();
    }
  });

  it('holds each client to its tokenEndpointAuthMethod', async () => {
    expect(await post({ client_id: 'inline-keys', client_secret: 'anything' }))
      .toEqual(refused('client "inline-keys" must authenticate with private_key_jwt (its tokenEndpointAuthMethod), not client_secret_post'));
    expect(await post({ client_id: 'inline-keys' }))
      .toEqual(refused('client "inline-keys" must authenticate with private_key_jwt (its tokenEndpointAuthMethod), not none'));
    expect(await post(withAssertion(await assertion({ clientId: 'basic' }))))
      .toEqual(refused('client "basic" must authenticate with client_secret_basic or client_secret_post (no tokenEndpointAuthMethod is set), not private_key_jwt'));
  });

  it('refuses an unknown client_assertion_type, naming only the registered ones', async () => {
    const jwt = await assertion();
    expect(await post({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: jwt })).toEqual(refused(
      `client_assertion_type urn:ietf:params:oauth:client-assertion-type:saml2-bearer (SAML 2.0 bearer assertions (RFC 7522)) is not supported; use ${JWT_BEARER}`,
    ));
    expect(await post({ client_assertion_type: 'my-secret-token-value', client_assertion: jwt }))
      .toEqual(refused(`this client_assertion_type is not supported; use ${JWT_BEARER}`));
  });

  it('answers malformed assertion requests with the RFC error', async () => {
    expect(await post({ client_assertion: await assertion() })).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(await post({ client_assertion_type: JWT_BEARER })).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(await post(withAssertion('not-a-jwt'))).toEqual(refused('client_assertion is not a signed JWT'));
    expect(await post(withAssertion(await assertion(), { client_secret: 'x' })))
      .toEqual({ status: 400, error: 'invalid_request', description: 'use one client authentication method, not client_secret_post and client assertion' });
    const basic = `Basic ${Buffer.from('basic:basic-secret').toString('base64')}`;
    expect(await post(withAssertion(await assertion()), { headers: { authorization: basic } })).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('names an Authorization scheme that does not authenticate clients', async () => {
    expect(await post({ client_id: 'basic' }, { headers: { authorization: 'Bearer abc.def' } }))
      .toEqual(refused('the Bearer Authorization scheme does not authenticate clients here (Basic is client_secret_basic)'));
  });
});

describe('private_key_jwt with a jwksURI', () => {
  afterEach(() => void vi.useRealTimers());

  it('keeps the fetched keys, and refetches on an unknown kid once the cooldown has passed', async () => {
    const sign = (pair: KeyPair, kid: string) => assertion({ clientId: 'remote-keys', key: pair.privateKey, alg: 'RS256', kid });
    expect(await post(withAssertion(await sign(remote, 'remote-1')))).toEqual(PASSED);
    const fetched = keyServer.fetches;
    expect(await post(withAssertion(await sign(remote, 'remote-1')))).toEqual(PASSED);
    expect(keyServer.fetches).toBe(fetched);

    const rotated = await keyPair('RS256', 'remote-2');
    keyServer.keys = [remote.jwk, rotated.jwk];
    // Within jose's 30 s cooldown an unknown kid is refused without a fetch (no refetch storm).
    expect(await post(withAssertion(await sign(rotated, 'remote-2')))).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(keyServer.fetches).toBe(fetched);
    // Only jose's view of the time moves on; the issuer keeps its own clock (captured at start).
    const issuerNow = Math.floor(Date.now() / 1000);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 31_000);
    const later = await assertion({ clientId: 'remote-keys', key: rotated.privateKey, alg: 'RS256', kid: 'remote-2', claims: { iat: issuerNow, exp: issuerNow + 60 } });
    expect(await post(withAssertion(later))).toEqual(PASSED);
    expect(keyServer.fetches).toBe(fetched + 1);
  });

  it('refuses, naming the reason, when the jwksURI cannot be fetched', async () => {
    const closed = await freePort();
    const config = jwtClientsConfig({ inline: [inline.jwk], jwksURI: `http://127.0.0.1:${closed}/jwks.json` });
    const unreachable = await startTestIssuer({ configYaml: config });
    try {
      const jwt = await assertion({ clientId: 'remote-keys', key: remote.privateKey, alg: 'RS256', kid: 'remote-1', issuer: unreachable });
      expect(await post(withAssertion(jwt), { issuer: unreachable })).toEqual(refused("the client's keys could not be fetched from its jwksURI"));
    } finally {
      await unreachable.close();
    }
  });
});

describe('client_secret_jwt', () => {
  const secret = new TextEncoder().encode(HMAC_SECRET);
  const mac = (alg: string, options: AssertionOptions = {}) => assertion({ clientId: 'hmac', alg, key: secret, kid: '', ...options });

  it('verifies HS256 and HS384 under the static secret, and refuses HS512 with a secret shorter than its key size', async () => {
    expect(await post(withAssertion(await mac('HS256')))).toEqual(PASSED);
    expect(await post(withAssertion(await mac('HS384')))).toEqual(PASSED);
    expect(await post(withAssertion(await mac('HS512', { key: new TextEncoder().encode(HMAC_SECRET.repeat(2)) }))))
      .toEqual(refused('the client secret is too short for HS512 (at least 64 bytes)'));
  });

  it('applies the same claim checks as private_key_jwt', async () => {
    expect(await post(withAssertion(await mac('HS256', { claims: { aud: 'https://other.example' } })))).toMatchObject({ status: 401 });
    const once = await mac('HS256');
    expect(await post(withAssertion(once))).toEqual(PASSED);
    expect(await post(withAssertion(once))).toEqual(refused('client_assertion was already used (its jti was seen before)'));
  });

  it('refuses a signature for a client_secret_jwt client', async () => {
    expect(await post(withAssertion(await assertion({ clientId: 'hmac' }))))
      .toEqual(refused('client "hmac" must authenticate with client_secret_jwt (its tokenEndpointAuthMethod), not private_key_jwt'));
  });

  it('refuses a stored client, whose secret idgate keeps only as a hash', async () => {
    await idp.storage.clients.create({
      id: 'stored-hmac', secretHash: hashSecret(HMAC_SECRET), redirectURIs: [], trustedPeers: [], public: false, name: 'Stored',
      tokenEndpointAuthMethod: 'client_secret_jwt',
    });
    expect(await post(withAssertion(await mac('HS256', { clientId: 'stored-hmac' })))).toEqual(refused(/^client "stored-hmac" cannot use client_secret_jwt: idgate keeps only a hash/));
  });
});

describe('client assertion replay across replicas (PostgreSQL)', () => {
  it('refuses at the second issuer a jti the first one accepted, both on one schema', async () => {
    await requirePostgres();
    const schema = randomSchemaName();
    const backends = await Promise.all([1, 2].map(() => createPostgresBackend(testConfig(schema, { maxOpenConns: 2 }))));
    const [a, b] = await Promise.all(backends.map((backend) => startTestIssuer({
      configYaml: jwtClientsConfig({ inline: [inline.jwk], jwksURI: keyServer.url }),
      storage: createStorage(backend, { now: Date.now }),
    })));
    try {
      const jwt = await assertion({ claims: { aud: [a!.url, b!.url] } });
      expect(await post(withAssertion(jwt), { issuer: a })).toEqual(PASSED);
      expect(await post(withAssertion(jwt), { issuer: b })).toEqual(refused('client_assertion was already used (its jti was seen before)'));
    } finally {
      await Promise.all([a!.close(), b!.close()]);
      await Promise.all([a!.storage.close(), b!.storage.close()]);
      await dropSchema(schema);
    }
  });
});
