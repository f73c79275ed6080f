// authorization_code grant, the refusals: every rule at the token endpoint with the error it answers.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type SeededCode, type TestServer } from './harness.js';

let server: TestServer;
const REDIRECT = 'https://rp.example/callback';

beforeAll(async () => {
  server = await startTestServer();
  await server.seedClient({ id: 'web', secret: 'web secret' });
  await server.seedClient({ id: 'other', secret: 'other secret' });
  await server.seedClient({ id: 'spa', public: true, redirectURIs: [REDIRECT] });
  await server.seedClient({ id: 'strict', secret: 'strict secret', requirePKCE: true });
  await server.seedClient({ id: 'limited', secret: 'limited secret', allowedConnectors: ['saml'] });
});
afterAll(() => server.close());

function redeem(seeded: SeededCode, overrides: Record<string, string | undefined> = {}) {
  const form: Record<string, string> = {};
  const fields = {
    grant_type: 'authorization_code', code: seeded.code, redirect_uri: REDIRECT, code_verifier: seeded.verifier,
    client_id: 'web', client_secret: 'web secret', ...overrides,
  };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) form[key] = value;
  return server.post('/token', form);
}

async function expectError(response: Response, status: number, error: string): Promise<Record<string, string>> {
  const body = (await response.json()) as Record<string, string>;
  expect({ status: response.status, error: body.error }).toEqual({ status, error });
  expect(body.error_description).toBeTypeOf('string');
  return body;
}

describe('authorization_code grant refusals', () => {
  it('accepts a code once; a second redemption is invalid_grant', async () => {
    const seeded = await server.seedCode({ scopes: ['openid'] });
    expect((await redeem(seeded)).status).toBe(200);
    await expectError(await redeem(seeded), 400, 'invalid_grant');
  });

  it('revokes what a reused code issued: its refresh family and its access tokens', async () => {
    const seeded = await server.seedCode();
    const tokens = (await (await redeem(seeded)).json()) as { access_token: string; refresh_token: string };
    const body = await expectError(await redeem(seeded), 400, 'invalid_grant');
    expect(body.error_description).toMatch(/already used/);
    expect(await server.ctx.storage.refreshTokens.get(seeded.record.sessionId)).toBeUndefined();
    const revocation = await server.ctx.storage.revocations.get(`sid:${seeded.record.sessionId}`);
    expect(revocation).toMatchObject({ kind: 'sid', value: seeded.record.sessionId, userId: 'u-alice' });
    expect(revocation!.expiresAt).toBe(server.clock() + 24 * 3_600_000);
    const refresh = await server.post('/token', {
      grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'web', client_secret: 'web secret',
    });
    await expectError(refresh, 400, 'invalid_grant');
    const userinfo = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
    expect(server.audit.events.some((e) => e.event === 'session_revoked' && e.reason === 'code_reused')).toBe(true);
  });

  it('lets exactly one of several concurrent redemptions through, and revokes what it issued', async () => {
    const seeded = await server.seedCode();
    const responses = await Promise.all([redeem(seeded), redeem(seeded), redeem(seeded), redeem(seeded)]);
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 400, 400, 400]);
    const winner = responses.find((response) => response.status === 200)!;
    const tokens = (await winner.json()) as { refresh_token: string };
    expect(await server.ctx.storage.revocations.get(`sid:${seeded.record.sessionId}`)).toMatchObject({ kind: 'sid' });
    const refresh = await server.post('/token', {
      grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'web', client_secret: 'web secret',
    });
    await expectError(refresh, 400, 'invalid_grant');
  });

  it('refuses an expired code', async () => {
    const seeded = await server.seedCode({ expiresAt: server.clock() + 60_000 });
    server.clock.advance(60_000);
    await expectError(await redeem(seeded), 400, 'invalid_grant');
  });

  it('refuses an unknown code', async () => {
    const seeded = await server.seedCode();
    await expectError(await redeem({ ...seeded, code: 'not-a-code' }), 400, 'invalid_grant');
  });

  it('refuses a code issued to another client', async () => {
    const seeded = await server.seedCode();
    await expectError(await redeem(seeded, { client_id: 'other', client_secret: 'other secret' }), 400, 'invalid_grant');
  });

  it('refuses a different redirect_uri', async () => {
    await expectError(await redeem(await server.seedCode(), { redirect_uri: 'https://evil.example/callback' }), 400, 'invalid_grant');
  });

  it('refuses a redirect_uri that only partly matches (prefix, extra path, trailing slash, query)', async () => {
    for (const uri of ['https://rp.example/callbac', `${REDIRECT}/`, `${REDIRECT}/x`, `${REDIRECT}?a=1`, 'HTTPS://RP.EXAMPLE/callback']) {
      await expectError(await redeem(await server.seedCode(), { redirect_uri: uri }), 400, 'invalid_grant');
    }
  });

  it('requires redirect_uri', async () => {
    await expectError(await redeem(await server.seedCode(), { redirect_uri: undefined }), 400, 'invalid_request');
  });

  it('refuses a PKCE verifier that does not match the challenge', async () => {
    const seeded = await server.seedCode();
    await expectError(await redeem(seeded, { code_verifier: 'x'.repeat(43) }), 400, 'invalid_grant');
  });

  it('refuses a missing verifier when the code has a challenge', async () => {
    await expectError(await redeem(await server.seedCode(), { code_verifier: undefined }), 400, 'invalid_grant');
  });

  it('refuses a verifier when the authorization request had no challenge', async () => {
    const seeded = await server.seedCode({ verifier: null });
    await expectError(await redeem(seeded, { code_verifier: 'y'.repeat(43) }), 400, 'invalid_grant');
  });

  it('refuses a malformed verifier even for plain', async () => {
    const seeded = await server.seedCode({ codeChallenge: 'short', codeChallengeMethod: 'plain' });
    await expectError(await redeem(seeded, { code_verifier: 'short' }), 400, 'invalid_grant');
  });

  it('refuses a plain code unless oauth2.pkce.allowPlain is set (the second lock behind /auth)', async () => {
    const verifier = 'p'.repeat(43);
    const plain = await server.seedCode({ codeChallenge: verifier, codeChallengeMethod: 'plain' });
    const body = await expectError(await redeem(plain, { code_verifier: verifier }), 400, 'invalid_grant');
    expect(body.error_description).toMatch(/PKCE plain, which is not accepted/);
  });

  it('with allowPlain, accepts plain only when the code says plain', async () => {
    const lenient = await startTestServer({ yaml: 'oauth2: { pkce: { allowPlain: true } }' });
    try {
      await lenient.seedClient({ id: 'web', secret: 'web secret' });
      const verifier = 'p'.repeat(43);
      const post = (seeded: SeededCode) => lenient.post('/token', {
        grant_type: 'authorization_code', code: seeded.code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'web', client_secret: 'web secret',
      });
      expect((await post(await lenient.seedCode({ codeChallenge: verifier, codeChallengeMethod: 'plain' }))).status).toBe(200);
      await expectError(await post(await lenient.seedCode({ codeChallenge: verifier, codeChallengeMethod: 'S256' })), 400, 'invalid_grant');
    } finally {
      await lenient.close();
    }
  });

  it('consumes the code even when a check fails, so a PKCE guess cannot be retried', async () => {
    const seeded = await server.seedCode();
    await expectError(await redeem(seeded, { code_verifier: 'z'.repeat(43) }), 400, 'invalid_grant');
    await expectError(await redeem(seeded), 400, 'invalid_grant');
  });

  it('lets a public client redeem with client_id and PKCE S256, never without PKCE', async () => {
    const ok = await server.seedCode({ clientId: 'spa' });
    const response = await redeem(ok, { client_id: 'spa', client_secret: undefined });
    expect(response.status).toBe(200);
    expect(decodeJwt(((await response.json()) as { id_token: string }).id_token).aud).toBe('spa');
    const noPkce = await server.seedCode({ clientId: 'spa', verifier: null });
    await expectError(await redeem(noPkce, { client_id: 'spa', client_secret: undefined, code_verifier: undefined }), 400, 'invalid_grant');
  });

  it('refuses plain PKCE from a client that must use S256', async () => {
    const verifier = 'q'.repeat(43);
    const seeded = await server.seedCode({ clientId: 'strict', codeChallenge: verifier, codeChallengeMethod: 'plain' });
    await expectError(await redeem(seeded, { client_id: 'strict', client_secret: 'strict secret', code_verifier: verifier }), 400, 'invalid_grant');
  });

  it('refuses a session of a connector the client may not use (allowedConnectors)', async () => {
    const seeded = await server.seedCode({ clientId: 'limited', connectorId: 'mock' });
    await expectError(await redeem(seeded, { client_id: 'limited', client_secret: 'limited secret' }), 400, 'invalid_grant');
  });

  it('refuses a cross-client audience the peer does not trust', async () => {
    const seeded = await server.seedCode({ scopes: ['openid', 'audience:server:client_id:other'] });
    await expectError(await redeem(seeded), 400, 'invalid_scope');
  });

  it('audits a refusal without the code', async () => {
    const seeded = await server.seedCode();
    await redeem(seeded, { redirect_uri: 'https://evil.example/' });
    const event = server.audit.events.at(-1)!;
    expect(event).toMatchObject({ event: 'token_refused', grant: 'authorization_code', clientId: 'web', reason: 'invalid_grant' });
    expect(JSON.stringify(event)).not.toContain(seeded.code);
  });
});
