// Scope parsing shared by /auth and /token: Dex's scopes and nothing else; cross-client audiences
// only for trusted peers.
import { describe, expect, it } from 'vitest';
import type { OAuthError } from '../../src/oidc/errors.js';
import { parseScopes, resolveAudience } from '../../src/oidc/scopes.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as OAuthError).code;
  }
  return undefined;
}

describe('parseScopes', () => {
  it('reads every known scope and the cross-client peers', () => {
    const scopes = parseScopes('openid email profile groups offline_access federated:id audience:server:client_id:api');
    expect(scopes).toMatchObject({ openid: true, email: true, profile: true, groups: true, offlineAccess: true, federatedId: true, peers: ['api'] });
  });

  it('drops duplicates and extra spaces, keeping request order', () => {
    expect(parseScopes('  openid  email openid ').all).toEqual(['openid', 'email']);
  });

  it('refuses an unknown scope with invalid_scope', () => {
    expect(codeOf(() => parseScopes('openid admin'))).toBe('invalid_scope');
    expect(codeOf(() => parseScopes(['openid', 'OPENID']))).toBe('invalid_scope');
  });

  it('refuses a cross-client scope without a client ID', () => {
    expect(codeOf(() => parseScopes('openid audience:server:client_id:'))).toBe('invalid_scope');
  });
});

describe('resolveAudience', () => {
  const storage = createStorage(createMemoryBackend());
  const client = (id: string, trustedPeers: string[] = []) =>
    storage.clients.create({ id, secretHash: null, redirectURIs: [], trustedPeers, public: false, name: id });

  it('is the client alone without cross-client scopes, and peer plus client with them', async () => {
    await client('web');
    await client('api', ['web']);
    expect(await resolveAudience(storage, 'web', parseScopes('openid'))).toEqual(['web']);
    expect(await resolveAudience(storage, 'web', parseScopes('openid audience:server:client_id:api'))).toEqual(['api', 'web']);
  });

  it('refuses a peer that does not trust the client, or does not exist', async () => {
    await client('vault', ['someone-else']);
    await expect(resolveAudience(storage, 'web', parseScopes('openid audience:server:client_id:vault'))).rejects.toMatchObject({ code: 'invalid_scope' });
    await expect(resolveAudience(storage, 'web', parseScopes('openid audience:server:client_id:ghost'))).rejects.toMatchObject({ code: 'invalid_scope' });
  });
});
