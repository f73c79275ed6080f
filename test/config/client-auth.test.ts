// How a static client authenticates, checked when the config is read: tokenEndpointAuthMethod fits the
// client, private_key_jwt has public keys it can verify with, client_secret_jwt has a secret long
// enough to be an HMAC key; each problem names its path.
import { exportJWK, generateKeyPair, generateSecret } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

const base = `issuer: http://127.0.0.1:5556/dex
storage: { type: memory }
web: { http: 127.0.0.1:5556 }
staticClients:
`;

function problemsOf(clients: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(`${base}${clients}`, 'test.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

let es256: Record<string, unknown>;
let es256Private: Record<string, unknown>;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  es256 = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  es256Private = { ...(await exportJWK(pair.privateKey)), kid: 'k1' };
});

const keyClient = (jwks: unknown, extra = '') => `- id: app\n  tokenEndpointAuthMethod: private_key_jwt\n  jwks: ${JSON.stringify(jwks)}\n${extra}`;

describe('static client authentication config', () => {
  it('accepts a private_key_jwt client with inline keys or a jwksURI, and no secret', () => {
    expect(problemsOf(keyClient({ keys: [es256] }))).toEqual([]);
    expect(problemsOf('- id: app\n  tokenEndpointAuthMethod: private_key_jwt\n  jwksURI: https://app.example/jwks.json\n')).toEqual([]);
    const config = parseConfig(`${base}${keyClient({ keys: [es256] })}`, 'test.yaml', {});
    expect(config.staticClients[0]).toMatchObject({ secret: null, tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [es256] } });
  });

  it('requires the keys of a private_key_jwt client, from one place, and refuses a secret beside them', () => {
    expect(problemsOf('- id: app\n  tokenEndpointAuthMethod: private_key_jwt\n')).toEqual([
      "staticClients[0].tokenEndpointAuthMethod: private_key_jwt needs the client's public keys: set jwks or jwksURI",
    ]);
    expect(problemsOf(keyClient({ keys: [es256] }, '  jwksURI: https://app.example/jwks.json\n'))).toEqual([
      'staticClients[0].jwksURI: set jwks or jwksURI, not both',
    ]);
    expect(problemsOf(keyClient({ keys: [es256] }, '  secret: also-a-secret\n'))).toEqual([
      'staticClients[0].secret: a private_key_jwt client authenticates with its keys, not a secret: remove it',
    ]);
    expect(problemsOf('- id: app\n  tokenEndpointAuthMethod: private_key_jwt\n  jwksURI: http://app.example/jwks.json\n')).toEqual([
      'staticClients[0].jwksURI: must be an https URL (http only for localhost)',
    ]);
  });

  it('refuses keys that private_key_jwt cannot safely verify with, naming the key and member', async () => {
    const p384 = await exportJWK((await generateKeyPair('ES384', { extractable: true })).publicKey);
    const { publicKey: rsa1024 } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weakRSA = rsa1024.export({ format: 'jwk' });
    const oct = await exportJWK(await generateSecret('HS256', { extractable: true }));
    expect(problemsOf(keyClient({ keys: [es256Private] }))).toEqual([
      'staticClients[0].jwks.keys[0]: is a private key (it has "d"): register only the public key',
    ]);
    expect(problemsOf(keyClient({ keys: [oct] }))).toEqual([
      'staticClients[0].jwks.keys[0]: is a symmetric key: private_key_jwt verifies with public keys (a shared secret is client_secret_jwt)',
    ]);
    expect(problemsOf(keyClient({ keys: [{ ...es256, alg: 'HS256' }] }))).toEqual([
      'staticClients[0].jwks.keys[0].alg: is not accepted for private_key_jwt (one of: RS256, PS256, ES256, EdDSA, Ed25519)',
    ]);
    expect(problemsOf(keyClient({ keys: [{ ...es256, alg: 'RS256' }] }))).toEqual([
      'staticClients[0].jwks.keys[0].alg: RS256 is for RSA keys, this one is EC',
    ]);
    expect(problemsOf(keyClient({ keys: [es256, p384] }))).toEqual([
      'staticClients[0].jwks.keys[1].crv: must be P-256 (the only EC curve private_key_jwt accepts)',
    ]);
    expect(problemsOf(keyClient({ keys: [weakRSA] }))).toEqual([
      'staticClients[0].jwks.keys[0]: an RSA key needs at least 2048 bits (this one has 1024)',
    ]);
    expect(problemsOf(keyClient({ keys: [{ ...es256, use: 'enc' }] }))).toEqual([
      'staticClients[0].jwks.keys[0].use: must be "sig": the key verifies client assertions',
    ]);
    expect(problemsOf(keyClient({ keys: [{ ...es256, x: 'AAAA' }] }))[0]).toMatch(/^staticClients\[0\]\.jwks\.keys\[0\]: is not a usable public key/);
    expect(problemsOf(keyClient({ keys: [{ kty: 'AKP', alg: 'ML-DSA-44', pub: 'AAAA' }] }))).toEqual([
      'staticClients[0].jwks.keys[0].kty: key type "AKP" is not supported (RSA, EC or OKP)',
    ]);
    expect(problemsOf(keyClient({ keys: [] }))).toEqual(['staticClients[0].jwks.keys: must hold at least one key']);
  });

  it('uses jwks and jwksURI only with private_key_jwt and self_signed_tls_client_auth', () => {
    expect(problemsOf(`- id: app\n  secret: s\n  jwks: ${JSON.stringify({ keys: [es256] })}\n`)).toEqual([
      'staticClients[0].jwks: is used only with tokenEndpointAuthMethod: private_key_jwt or self_signed_tls_client_auth',
    ]);
    expect(problemsOf('- id: app\n  secret: s\n  tokenEndpointAuthMethod: client_secret_basic\n  jwksURI: https://app.example/jwks.json\n')).toEqual([
      'staticClients[0].jwksURI: is used only with tokenEndpointAuthMethod: private_key_jwt or self_signed_tls_client_auth',
    ]);
  });

  it('keeps public clients on none, and none for public clients', () => {
    expect(problemsOf('- id: spa\n  public: true\n  tokenEndpointAuthMethod: client_secret_basic\n')).toEqual([
      'staticClients[0].tokenEndpointAuthMethod: a public client authenticates with none (it has no secret or keys)',
    ]);
    expect(problemsOf('- id: spa\n  public: true\n  tokenEndpointAuthMethod: none\n')).toEqual([]);
    expect(problemsOf('- id: app\n  secret: s\n  tokenEndpointAuthMethod: none\n')).toEqual([
      'staticClients[0].tokenEndpointAuthMethod: none is for public clients: set public: true, or choose a method that authenticates',
    ]);
  });

  it('needs a client_secret_jwt secret of at least 32 bytes (an HS256 key), from the file or the environment', () => {
    const hmac = (secret: string) => `- id: app\n  tokenEndpointAuthMethod: client_secret_jwt\n  ${secret}\n`;
    expect(problemsOf(hmac('secret: ZXhhbXBsZS1hcHAtc2VjcmV0'))).toEqual([
      'staticClients[0].secret: client_secret_jwt uses the secret as an HMAC key, which needs at least 32 bytes (this one has 24)',
    ]);
    expect(problemsOf(hmac('secretEnv: APP_SECRET'), { APP_SECRET: 'short' })).toEqual([
      'staticClients[0].secretEnv: client_secret_jwt uses the secret as an HMAC key, which needs at least 32 bytes (this one has 5)',
    ]);
    expect(problemsOf(hmac('secret: 0123456789abcdef0123456789abcdef'))).toEqual([]);
    expect(problemsOf('- id: app\n  tokenEndpointAuthMethod: client_secret_jwt\n')[0]).toMatch(/^staticClients\[0\]\.secret: a confidential client needs secret or secretEnv/);
  });

  it('lists the methods when the method is unknown', () => {
    expect(problemsOf('- id: app\n  secret: s\n  tokenEndpointAuthMethod: attest_jwt_client_auth\n')).toEqual([
      'staticClients[0].tokenEndpointAuthMethod: unknown value (expected one of: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, none)',
    ]);
  });
});
