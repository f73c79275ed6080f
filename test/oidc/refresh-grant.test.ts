// refresh_token grant: rotation, the reuse interval, reuse detection, lifetimes, scope narrowing, the
// connector's say, and families. Expiry is driven by a manual clock.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeSubject } from '../../src/oidc/revocation.js';
import { ALICE, startTestServer, type TestServer } from './harness.js';

const SECOND = 1000;
const HOUR = 3_600_000;
const REFRESH_CONFIG = 'expiry: { refreshTokens: { reuseInterval: 3s, validIfNotUsedFor: 1h, absoluteLifetime: 10h } }';

interface Tokens {
  access_token: string;
  id_token: string;
  refresh_token: string;
  scope: string;
}

async function login(server: TestServer, scopes?: string[]): Promise<Tokens & { sid: string }> {
  const seeded = await server.seedCode(scopes ? { scopes } : {});
  const response = await server.post('/token', {
    grant_type: 'authorization_code', code: seeded.code, redirect_uri: 'https://rp.example/callback',
    code_verifier: seeded.verifier, client_id: 'web', client_secret: 'web secret',
  });
  expect(response.status).toBe(200);
  return { ...((await response.json()) as Tokens), sid: seeded.record.sessionId };
}

function refresh(server: TestServer, token: string, extra: Record<string, string> = {}) {
  return server.post('/token', { grant_type: 'refresh_token', refresh_token: token, client_id: 'web', client_secret: 'web secret', ...extra });
}

async function refreshed(server: TestServer, token: string, extra: Record<string, string> = {}): Promise<Tokens> {
  const response = await refresh(server, token, extra);
  expect(response.status).toBe(200);
  return (await response.json()) as Tokens;
}

async function refusal(response: Response): Promise<{ status: number; error: string }> {
  return { status: response.status, error: ((await response.json()) as { error: string }).error };
}

async function startWith(yaml: string): Promise<TestServer> {
  const server = await startTestServer({ yaml });
  await server.seedClient({ id: 'web', secret: 'web secret' });
  await server.seedClient({ id: 'other', secret: 'other secret' });
  return server;
}

describe('refresh_token grant with rotation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startWith(REFRESH_CONFIG);
  });
  afterAll(() => server.close());

  it('rotates the refresh token on every use', async () => {
    const first = await login(server);
    const second = await refreshed(server, first.refresh_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.refresh_token.startsWith(`${first.sid}.`)).toBe(true);
    const third = await refreshed(server, second.refresh_token);
    expect(third.refresh_token).not.toBe(second.refresh_token);
  });

  it('answers a replay of the previous token within reuseInterval with the same new token', async () => {
    const first = await login(server);
    const second = await refreshed(server, first.refresh_token);
    server.clock.advance(3 * SECOND - 1);
    const replay = await refreshed(server, first.refresh_token);
    expect(replay.refresh_token).toBe(second.refresh_token);
    expect((await refresh(server, second.refresh_token)).status).toBe(200);
  });

  it('gives two concurrent uses of one token the same new token', async () => {
    const first = await login(server);
    const [a, b] = await Promise.all([refreshed(server, first.refresh_token), refreshed(server, first.refresh_token)]);
    expect(a.refresh_token).toBe(b.refresh_token);
  });

  it('revokes the whole family when a rotated token is reused after the interval', async () => {
    const first = await login(server);
    const second = await refreshed(server, first.refresh_token);
    server.clock.advance(3 * SECOND);
    expect(await refusal(await refresh(server, first.refresh_token))).toEqual({ status: 400, error: 'invalid_grant' });
    expect(await refusal(await refresh(server, second.refresh_token))).toEqual({ status: 400, error: 'invalid_grant' });
    expect(await server.ctx.storage.revocations.get(`sid:${first.sid}`)).toMatchObject({ kind: 'sid', value: first.sid });
    const userinfo = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${second.access_token}` } });
    expect(userinfo.status).toBe(401);
  });

  it('refuses a forged secret for a real family without revoking it', async () => {
    const first = await login(server);
    expect(await refusal(await refresh(server, `${first.sid}.forged`))).toEqual({ status: 400, error: 'invalid_grant' });
    expect((await refresh(server, first.refresh_token)).status).toBe(200);
  });

  it('refuses a malformed token', async () => {
    expect(await refusal(await refresh(server, 'no-dot-here'))).toEqual({ status: 400, error: 'invalid_grant' });
  });

  it('refuses a token presented by another client', async () => {
    const first = await login(server);
    const response = await server.post('/token', {
      grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: 'other', client_secret: 'other secret',
    });
    expect(await refusal(response)).toEqual({ status: 400, error: 'invalid_grant' });
  });

  it('refuses a refresh once the client may no longer use the session\'s connector', async () => {
    const first = await login(server);
    await server.ctx.storage.clients.update('web', (c) => ({ ...c, allowedConnectors: ['saml'] }));
    try {
      expect(await refusal(await refresh(server, first.refresh_token))).toEqual({ status: 400, error: 'invalid_grant' });
    } finally {
      await server.ctx.storage.clients.update('web', (c) => ({ ...c, allowedConnectors: undefined }));
    }
  });

  it('keeps each login its own family', async () => {
    const one = await login(server);
    const two = await login(server);
    expect(one.sid).not.toBe(two.sid);
    expect((await refresh(server, one.refresh_token)).status).toBe(200);
    expect((await refresh(server, two.refresh_token)).status).toBe(200);
  });

  it('expires a family left unused for validIfNotUsedFor', async () => {
    const first = await login(server);
    server.clock.advance(HOUR - SECOND);
    const second = await refreshed(server, first.refresh_token);
    server.clock.advance(HOUR - SECOND);
    const third = await refreshed(server, second.refresh_token);
    server.clock.advance(HOUR);
    expect(await refusal(await refresh(server, third.refresh_token))).toEqual({ status: 400, error: 'invalid_grant' });
  });

  it('expires a family absoluteLifetime after its creation, however often it is used', async () => {
    let token = (await login(server)).refresh_token;
    const step = 50 * 60 * SECOND;
    for (let used = 0; used < 11; used++) {
      server.clock.advance(step);
      token = (await refreshed(server, token)).refresh_token;
    }
    server.clock.advance(10 * HOUR - 11 * step);
    expect(await refusal(await refresh(server, token))).toEqual({ status: 400, error: 'invalid_grant' });
  });

  it('narrows the scope but never widens it', async () => {
    const first = await login(server, ['openid', 'email', 'offline_access']);
    const narrowed = await refreshed(server, first.refresh_token, { scope: 'openid' });
    expect(narrowed.scope).toBe('openid');
    expect(decodeJwt(narrowed.id_token).email).toBeUndefined();
    expect(await refusal(await refresh(server, narrowed.refresh_token, { scope: 'openid groups' }))).toEqual({ status: 400, error: 'invalid_scope' });
  });

  it('refuses an unknown scope with invalid_scope', async () => {
    const first = await login(server);
    expect(await refusal(await refresh(server, first.refresh_token, { scope: 'openid admin' }))).toEqual({ status: 400, error: 'invalid_scope' });
  });

  it('stores the identity the connector re-read and puts it in the new tokens', async () => {
    const first = await login(server);
    server.upstream.next = { groups: ['auditors'] };
    const calls = server.upstream.calls;
    try {
      const next = await refreshed(server, first.refresh_token);
      expect(server.upstream.calls).toBe(calls + 1);
      expect(decodeJwt(next.id_token).groups).toEqual(['auditors']);
      expect((await server.ctx.storage.refreshTokens.get(first.sid))!.identity.groups).toEqual(['auditors']);
    } finally {
      server.upstream.next = undefined;
    }
  });

  it('revokes the family when the connector refuses to refresh', async () => {
    const first = await login(server);
    server.upstream.next = new Error('user disabled upstream');
    try {
      expect(await refusal(await refresh(server, first.refresh_token))).toEqual({ status: 400, error: 'invalid_grant' });
    } finally {
      server.upstream.next = undefined;
    }
    expect(await server.ctx.storage.refreshTokens.get(first.sid)).toBeUndefined();
    expect(await server.ctx.storage.revocations.get(`sid:${first.sid}`)).toBeDefined();
  });

  it('never stores a refresh token in plaintext', async () => {
    const first = await login(server);
    const second = await refreshed(server, first.refresh_token);
    const stored = JSON.stringify(await server.ctx.storage.refreshTokens.get(first.sid));
    for (const token of [first.refresh_token, second.refresh_token]) expect(stored).not.toContain(token.split('.')[1]);
  });
});

describe('refresh_token grant with rotation disabled', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startWith('expiry: { refreshTokens: { disableRotation: true } }');
  });
  afterAll(() => server.close());

  it('keeps handing back the same refresh token', async () => {
    const first = await login(server);
    const second = await refreshed(server, first.refresh_token);
    expect(second.refresh_token).toBe(first.refresh_token);
    server.clock.advance(HOUR);
    expect((await refreshed(server, first.refresh_token)).refresh_token).toBe(first.refresh_token);
  });
});

describe('refresh_token grant with reuseInterval 0s', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startWith('expiry: { refreshTokens: { reuseInterval: 0s } }');
  });
  afterAll(() => server.close());

  it('never answers the previous token again, even from a replica whose clock is behind the rotation', async () => {
    const first = await login(server);
    await refreshed(server, first.refresh_token);
    server.clock.set(server.clock() - 5); // another replica, 5 ms behind the one that rotated
    expect(await refusal(await refresh(server, first.refresh_token))).toEqual({ status: 400, error: 'invalid_grant' });
    expect(await server.ctx.storage.revocations.get(`sid:${first.sid}`)).toMatchObject({ kind: 'sid' });
  });
});

describe('refresh_token grant after every session of the user was revoked (idgate sessions revoke)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startWith(REFRESH_CONFIG);
  });
  afterAll(() => server.close());

  it('refuses a family created before the subject revocation even if it escaped deletion, and a later one works', async () => {
    const before = await login(server);
    server.clock.advance(SECOND);
    // The subject revocation alone, as when a family is created while the CLI reads the sessions.
    await revokeSubject(server.ctx, { userId: ALICE.userId, connectorId: 'mock' }, 'revoked_by_admin');
    expect(await refusal(await refresh(server, before.refresh_token))).toEqual({ status: 400, error: 'invalid_grant' });
    const userinfo = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${before.access_token}` } });
    expect(userinfo.status).toBe(401);
    expect(server.audit.events).toContainEqual(expect.objectContaining({ event: 'subject_revoked', connectorId: 'mock', userId: ALICE.userId }));

    server.clock.advance(SECOND); // iat has whole seconds: the next login is a second later
    const after = await login(server);
    expect((await refresh(server, after.refresh_token)).status).toBe(200);
    expect((await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${after.access_token}` } })).status).toBe(200);
  });

  it('refuses a code issued before the subject revocation', async () => {
    const seeded = await server.seedCode();
    server.clock.advance(SECOND);
    await revokeSubject(server.ctx, { userId: ALICE.userId, connectorId: 'mock' }, 'revoked_by_admin');
    const response = await server.post('/token', {
      grant_type: 'authorization_code', code: seeded.code, redirect_uri: 'https://rp.example/callback',
      code_verifier: seeded.verifier, client_id: 'web', client_secret: 'web secret',
    });
    expect(await response.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/sessions were revoked/) });
  });

  it('keeps a user of another connector, with the same user ID, logged in', async () => {
    const other = await server.seedCode({ connectorId: 'local' });
    server.clock.advance(SECOND);
    await revokeSubject(server.ctx, { userId: ALICE.userId, connectorId: 'mock' }, 'revoked_by_admin');
    const response = await server.post('/token', {
      grant_type: 'authorization_code', code: other.code, redirect_uri: 'https://rp.example/callback',
      code_verifier: other.verifier, client_id: 'web', client_secret: 'web secret',
    });
    expect(response.status).toBe(200);
  });
});
