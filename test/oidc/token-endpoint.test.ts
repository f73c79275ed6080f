// The token endpoint's front door: client authentication (basic, post, public), grant selection,
// malformed requests, and how unexpected failures are answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { basic, startTestServer, type TestServer } from './harness.js';

let server: TestServer;
const TRICKY_SECRET = 'p@ss:w%rd +&=é';

beforeAll(async () => {
  server = await startTestServer();
  await server.seedClient({ id: 'web', secret: 'web secret' });
  await server.seedClient({ id: 'odd:id', secret: TRICKY_SECRET });
  await server.seedClient({ id: 'spa', public: true });
});
afterAll(() => server.close());

async function redeemWith(form: Record<string, string>, headers: Record<string, string> = {}, clientId = 'web') {
  const seeded = await server.seedCode({ clientId, scopes: ['openid'] });
  return server.post('/token', {
    grant_type: 'authorization_code', code: seeded.code, redirect_uri: 'https://rp.example/callback',
    code_verifier: seeded.verifier, ...form,
  }, headers);
}

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: string };
  return { status: response.status, error: body.error, challenge: response.headers.get('www-authenticate') };
}

describe('client authentication at /token', () => {
  it('accepts client_secret_basic', async () => {
    expect((await redeemWith({}, { authorization: basic('web', 'web secret') })).status).toBe(200);
  });

  it('form-urlencodes id and secret inside Basic (RFC 6749 §2.3.1)', async () => {
    expect((await redeemWith({}, { authorization: basic('odd:id', TRICKY_SECRET) }, 'odd:id')).status).toBe(200);
    const raw = `Basic ${Buffer.from(`web:web secret`).toString('base64')}`;
    expect((await redeemWith({}, { authorization: raw })).status).toBe(200);
  });

  it('accepts client_secret_post', async () => {
    expect((await redeemWith({ client_id: 'web', client_secret: 'web secret' })).status).toBe(200);
  });

  it('refuses a wrong secret over Basic with 401 and a Basic challenge', async () => {
    expect(await errorOf(await redeemWith({}, { authorization: basic('web', 'wrong') }))).toEqual({
      status: 401, error: 'invalid_client', challenge: 'Basic realm="idgate"',
    });
  });

  it('refuses a wrong secret over post with 401 invalid_client', async () => {
    expect(await errorOf(await redeemWith({ client_id: 'web', client_secret: 'wrong' }))).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses an unknown client', async () => {
    expect(await errorOf(await redeemWith({}, { authorization: basic('nobody', 'x') }))).toEqual({
      status: 401, error: 'invalid_client', challenge: 'Basic realm="idgate"',
    });
    expect(await errorOf(await redeemWith({ client_id: 'nobody', client_secret: 'x' }))).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses a confidential client that sends no secret', async () => {
    expect(await errorOf(await redeemWith({ client_id: 'web' }))).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses two authentication methods at once', async () => {
    const response = await redeemWith({ client_id: 'web', client_secret: 'web secret' }, { authorization: basic('web', 'web secret') });
    expect(await errorOf(response)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('refuses a body client_id that differs from the Basic one', async () => {
    const response = await redeemWith({ client_id: 'spa' }, { authorization: basic('web', 'web secret') });
    expect(await errorOf(response)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('refuses a secret from a public client', async () => {
    expect(await errorOf(await redeemWith({ client_id: 'spa', client_secret: 'guess' }, {}, 'spa'))).toMatchObject({
      status: 401, error: 'invalid_client',
    });
  });

  it('refuses a request without any client identification', async () => {
    expect(await errorOf(await redeemWith({}))).toMatchObject({ status: 401, error: 'invalid_client' });
  });
});

describe('token request validation', () => {
  const auth = { authorization: basic('web', 'web secret') };

  it('refuses an unsupported grant type', async () => {
    const response = await server.post('/token', { grant_type: 'password', username: 'a', password: 'b' }, auth);
    expect(await errorOf(response)).toMatchObject({ status: 400, error: 'unsupported_grant_type' });
  });

  it('never echoes an unknown grant_type (it may be a pasted token): not in error_description, audited as "unsupported"', async () => {
    const pasted = 'rt-9f8e7d6c5b4a-pasted-refresh-token';
    const lines: string[] = [];
    const logged = await startTestServer({ logger: createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } }) });
    try {
      await logged.seedClient({ id: 'web', secret: 'web secret' });
      const response = await logged.post('/token', { grant_type: pasted }, auth);
      const body = (await response.json()) as { error: string; error_description: string };
      expect({ status: response.status, ...body }).toEqual({ status: 400, error: 'unsupported_grant_type', error_description: 'the grant_type is not supported' });
      expect(logged.audit.events.at(-1)).toEqual({ event: 'token_refused', outcome: 'refused', reason: 'unsupported_grant_type', grant: 'unsupported', clientId: 'web', description: 'the grant_type is not supported' });
      expect(JSON.stringify(logged.audit.events)).not.toContain(pasted);
      expect(lines.join('\n')).not.toContain(pasted);
    } finally {
      await logged.close();
    }
  });

  it('names a registered grant type it does not serve, in the answer and the audit', async () => {
    // The password grant is served only with oauth2.passwordConnector, as in Dex.
    const response = await server.post('/token', { grant_type: 'password' }, auth);
    const body = (await response.json()) as { error: string; error_description: string };
    expect({ status: response.status, ...body }).toEqual({ status: 400, error: 'unsupported_grant_type', error_description: 'grant_type "password" is not supported' });
    expect(server.audit.events.at(-1)).toMatchObject({ event: 'token_refused', grant: 'password', reason: 'unsupported_grant_type' });
  });

  it('refuses a grant type that exists only as an inherited property name', async () => {
    const response = await server.post('/token', { grant_type: 'constructor' }, auth);
    expect(await errorOf(response)).toMatchObject({ status: 400, error: 'unsupported_grant_type' });
  });

  it('requires grant_type', async () => {
    expect(await errorOf(await server.post('/token', { code: 'x' }, auth))).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('requires code', async () => {
    const response = await server.post('/token', { grant_type: 'authorization_code', redirect_uri: 'https://rp.example/callback' }, auth);
    expect(await errorOf(response)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('refuses a parameter given twice', async () => {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
      body: 'grant_type=authorization_code&code=a&code=b&redirect_uri=x',
    });
    expect(await errorOf(response)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('refuses a body that is not form-encoded', async () => {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{"grant_type":"authorization_code"}',
    });
    expect(await errorOf(response)).toMatchObject({ status: 415, error: 'invalid_request' });
  });
});

describe('unexpected failures', () => {
  it('answers 500 server_error with a generic message and logs nothing secret to the client', async () => {
    const original = server.ctx.storage.clients.get;
    server.ctx.storage.clients.get = async () => {
      throw new Error('database password is hunter2');
    };
    try {
      const response = await redeemWith({}, { authorization: basic('web', 'web secret') });
      const text = await response.text();
      expect(response.status).toBe(500);
      expect(JSON.parse(text).error).toBe('server_error');
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('at ');
    } finally {
      server.ctx.storage.clients.get = original;
    }
  });

  it('logs the unexpected error once, with a request id and without the request\'s secrets', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const logged = await startTestServer({ logger });
    try {
      await logged.seedClient({ id: 'web', secret: 'web secret' });
      // Every read of the code fails (redeeming looks the code up before it takes it).
      logged.ctx.storage.authCodes.get = async () => {
        throw new Error('disk on fire');
      };
      logged.ctx.storage.authCodes.take = async () => {
        throw new Error('disk on fire');
      };
      const response = await logged.post('/token', {
        grant_type: 'authorization_code', code: 'the-code-value', redirect_uri: 'https://rp.example/callback',
        client_id: 'web', client_secret: 'web secret',
      }, { 'x-request-id': 'req-42' });
      expect(response.status).toBe(500);
      expect(((await response.json()) as { error_description: string }).error_description).toContain('req-42');
      const errors = lines.filter((line) => line.includes('unexpected error'));
      expect(errors).toHaveLength(1);
      expect(JSON.parse(errors[0]!)).toMatchObject({ requestId: 'req-42', err: { message: 'disk on fire' } });
      for (const secret of ['the-code-value', 'web secret']) expect(lines.join('\n')).not.toContain(secret);
    } finally {
      await logged.close();
    }
  });

  it('answers 503 temporarily_unavailable when storage is down', async () => {
    const down = await startTestServer();
    try {
      await down.seedClient({ id: 'web', secret: 'web secret' });
      await down.ctx.storage.close();
      const response = await down.post('/token', { grant_type: 'authorization_code', code: 'c', redirect_uri: 'x' }, { authorization: basic('web', 'web secret') });
      expect(await errorOf(response)).toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    } finally {
      await down.close();
    }
  });
});
