/**
 * The issuer's audit stream (config key `audit`), through a whole issuer with the logger at `error`:
 * every login, consent decision, token request and revocation is a line in the audit file with its
 * request (id, client IP through the trusted-proxy rule, user agent), the client id tried, an outcome
 * and a reason; and no line carries a password, a code, a token or a client secret.
 */
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildIssuer } from '../../src/issuer.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import { auditLine, createAuditStream } from '../../src/telemetry/audit.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { followLogin, LoginPageError } from '../helpers/http-login.js';
import { ADMIN, DEFAULT_TEST_CONFIG, EXAMPLE_APP } from '../helpers/issuer.js';

interface Line {
  time: string;
  type: string;
  outcome: string;
  reason?: string;
  requestId: string;
  clientIp: string;
  userAgent?: string;
  clientId?: string;
  [field: string]: unknown;
}

const WRONG_PASSWORD = 'hunter2-wrong-7c1d';
const USER_AGENT = 'audit-test/1.0';

/** The shared test config, with the approval page shown and the audit stream in `auditFile`. */
function configYaml(url: string, auditFile: string, trustProxy: boolean, logLevel: string): string {
  const proxy = trustProxy ? '  clientRemoteIP:\n    header: X-Forwarded-For\n    trustedProxies: [127.0.0.1]\n' : '';
  const body = DEFAULT_TEST_CONFIG
    .replace('skipApprovalScreen: true', 'skipApprovalScreen: false')
    .replace('web:\n  http: 127.0.0.1:0\n', `web:\n  http: 127.0.0.1:0\n${proxy}`);
  return `issuer: ${url}\n${body}\nlogger:\n  level: ${logLevel}\naudit:\n  stdout: false\n  file: ${auditFile}\n`;
}

/** A whole issuer writing its audit stream to a file; `lines()` closes it and reads the file. */
async function startAuditedIssuer(dir: string, options: { trustProxy: boolean; logLevel?: string }) {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dex`;
  const auditFile = join(dir, `audit-${options.trustProxy ? 'proxy' : 'direct'}.log`);
  const config = parseConfig(configYaml(url, auditFile, options.trustProxy, options.logLevel ?? 'error'), 'audit-test.yaml', {});
  const logLines: string[] = [];
  const logger = createLogger({ level: config.logger.level, destination: { write: (line: string) => void logLines.push(line) } });
  const storage = createStorage(createMemoryBackend(), { now: Date.now });
  const issuer = await buildIssuer(config, { logger, storage });
  server.on('request', issuer.app.callback());
  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await issuer.close();
  }
  return {
    url,
    logLines,
    close,
    async lines(): Promise<Line[]> {
      await close();
      return (await readFile(auditFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Line);
    },
    token(fields: Record<string, string>, headers: Record<string, string> = {}) {
      return fetch(`${url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT, ...headers },
        body: new URLSearchParams(fields),
      });
    },
  };
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function authURL(url: string): string {
  const query = new URLSearchParams({ client_id: EXAMPLE_APP.id, redirect_uri: EXAMPLE_APP.redirectURI, response_type: 'code', scope: 'openid email offline_access', state: 'st-1' });
  return `${url}/auth?${query}`;
}

describe('issuer audit stream', () => {
  let dir: string;
  let lines: Line[];
  let raw: string;
  let logLines: string[];
  const secrets: string[] = [ADMIN.password, WRONG_PASSWORD, EXAMPLE_APP.secret];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'idgate-audit-'));
    const idp = await startAuditedIssuer(dir, { trustProxy: true });
    try {
      await expect(followLogin(authURL(idp.url), { redirectURI: EXAMPLE_APP.redirectURI, connector: 'local', username: ADMIN.email, password: WRONG_PASSWORD }))
        .rejects.toBeInstanceOf(LoginPageError);
      const denied = await followLogin(authURL(idp.url), { redirectURI: EXAMPLE_APP.redirectURI, connector: 'local', username: ADMIN.email, password: ADMIN.password, deny: true });
      expect(denied.searchParams.get('error')).toBe('access_denied');
      const landed = await followLogin(authURL(idp.url), { redirectURI: EXAMPLE_APP.redirectURI, connector: 'local', username: ADMIN.email, password: ADMIN.password });
      const code = landed.searchParams.get('code')!;
      secrets.push(code);

      const auth = { authorization: basic(EXAMPLE_APP.id, EXAMPLE_APP.secret), 'x-forwarded-for': '203.0.113.7' };
      const issued = await idp.token({ grant_type: 'authorization_code', code, redirect_uri: EXAMPLE_APP.redirectURI }, auth);
      expect(issued.status).toBe(200);
      const tokens = (await issued.json()) as { access_token: string; id_token: string; refresh_token: string };
      secrets.push(tokens.access_token, tokens.id_token, tokens.refresh_token);
      const refreshed = await idp.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, auth);
      expect(refreshed.status).toBe(200);
      const next = (await refreshed.json()) as { access_token: string; id_token: string; refresh_token: string };
      secrets.push(next.access_token, next.id_token, next.refresh_token);

      expect((await idp.token({ grant_type: 'refresh_token', refresh_token: next.refresh_token }, { authorization: basic(EXAMPLE_APP.id, 'not-the-secret-5e2') })).status).toBe(401);
      secrets.push('not-the-secret-5e2');
      expect((await idp.token({ grant_type: 'refresh_token', refresh_token: next.refresh_token, client_id: 'no-such-client', client_secret: 'guess-9a8b' })).status).toBe(401);
      secrets.push('guess-9a8b');
      expect((await idp.token({ grant_type: 'authorization_code', code, redirect_uri: EXAMPLE_APP.redirectURI }, auth)).status).toBe(400);

      const revoked = await fetch(`${idp.url}/token/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth.authorization, 'user-agent': USER_AGENT },
        body: new URLSearchParams({ token: next.access_token, token_type_hint: 'access_token' }),
      });
      expect(revoked.status).toBe(200);
      lines = await idp.lines();
      raw = await readFile(join(dir, 'audit-proxy.log'), 'utf8');
      logLines = idp.logLines;
    } finally {
      await idp.close();
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records every event of the flow at logger.level error, where the process log has none', () => {
    expect(lines.map((line) => `${line.type}:${line.outcome}`)).toEqual([
      'login:refused',
      'login:succeeded', 'session_created:succeeded', 'consent_denied:refused',
      'login:succeeded', 'session_created:succeeded', 'consent_given:succeeded',
      'token_issued:succeeded', 'token_issued:succeeded',
      'token_refused:refused', 'token_refused:refused',
      'session_ended:succeeded', 'token_refused:refused',
      'token_revoked:succeeded',
    ]);
    expect(logLines.filter((line) => /login|token|consent/.test(line))).toEqual([]);
  });

  it('gives every line its time, request id, client IP and user agent', () => {
    for (const line of lines) {
      expect(Date.parse(line.time)).not.toBeNaN();
      expect(line.requestId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
      expect(line.clientIp).toMatch(/^(127\.0\.0\.1|203\.0\.113\.7)$/);
      expect(line.userAgent).toBeTruthy();
    }
    expect(new Set(lines.map((line) => line.requestId)).size).toBeGreaterThan(8);
  });

  it('takes the client IP from X-Forwarded-For when the peer is a trusted proxy', () => {
    const tokenLines = lines.filter((line) => line.type.startsWith('token_'));
    expect(tokenLines.filter((line) => line.userAgent === USER_AGENT && line.clientIp === '203.0.113.7').length).toBeGreaterThan(0);
    expect(lines.find((line) => line.type === 'login')).toMatchObject({ clientIp: '127.0.0.1' });
  });

  it('names the refused login reason, the connector and the client', () => {
    expect(lines[0]).toMatchObject({ type: 'login', outcome: 'refused', reason: 'invalid_credentials', connectorId: 'local', clientId: EXAMPLE_APP.id, user: ADMIN.email });
    expect(lines[1]).toMatchObject({ type: 'login', outcome: 'succeeded', connectorId: 'local', subject: expect.any(String) });
  });

  it("records the approval page's Deny as consent_denied, and Approve as consent_given", () => {
    expect(lines[3]).toMatchObject({ type: 'consent_denied', outcome: 'refused', reason: 'access_denied', clientId: EXAMPLE_APP.id, connectorId: 'local', scopes: ['openid', 'email', 'offline_access'] });
    expect(lines[6]).toMatchObject({ type: 'consent_given', outcome: 'succeeded', clientId: EXAMPLE_APP.id, subject: lines[1]!.subject, remembered: true });
  });

  it('records each login session started, with its sid, the user and the methods used', () => {
    expect(lines[5]).toMatchObject({ type: 'session_created', clientId: EXAMPLE_APP.id, connectorId: 'local', userId: ADMIN.userId, subject: lines[1]!.subject, amr: ['pwd'] });
    expect(lines[5]!.sid).not.toBe(lines[2]!.sid);
  });

  it('records each token issued with its grant, subject and session', () => {
    expect(lines[7]).toMatchObject({ type: 'token_issued', grant: 'authorization_code', clientId: EXAMPLE_APP.id, subject: lines[1]!.subject, connectorId: 'local', refreshTokenIssued: true, sid: lines[5]!.sid });
    expect(lines[8]).toMatchObject({ type: 'token_issued', grant: 'refresh_token', clientId: EXAMPLE_APP.id, sid: lines[5]!.sid });
  });

  it('names the client id tried on invalid_client, known or not, and never the secret it sent', () => {
    expect(lines[9]).toMatchObject({ type: 'token_refused', reason: 'invalid_client', grant: 'refresh_token', clientId: EXAMPLE_APP.id });
    expect(lines[10]).toMatchObject({ type: 'token_refused', reason: 'invalid_client', grant: 'refresh_token', clientId: 'no-such-client' });
    expect(JSON.stringify([lines[9], lines[10]])).not.toMatch(/not-the-secret-5e2|guess-9a8b/);
  });

  it('records a reused code with the RFC error code and the login session it ended', () => {
    expect(lines[11]).toMatchObject({ type: 'session_ended', reason: 'code_reused', sid: lines[5]!.sid, clients: [EXAMPLE_APP.id], refreshTokensRevoked: 1 });
    expect(lines[12]).toMatchObject({ type: 'token_refused', reason: 'invalid_grant', grant: 'authorization_code' });
    expect(lines[13]).toMatchObject({ type: 'token_revoked', tokenType: 'access_token', hint: 'access_token', clientId: EXAMPLE_APP.id });
  });

  it('writes no password, code, token or client secret, and no field named code', () => {
    expect(secrets.length).toBe(12);
    for (const secret of secrets) expect(raw).not.toContain(secret);
    for (const line of lines) expect(line).not.toHaveProperty('code');
  });
});

describe('issuer audit client IP', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idgate-audit-'));
    try {
      const idp = await startAuditedIssuer(dir, { trustProxy: false });
      await idp.token({ grant_type: 'refresh_token', refresh_token: 'x.y', client_id: 'forger' }, { 'x-forwarded-for': '198.51.100.66' });
      const [line] = await idp.lines();
      expect(line).toMatchObject({ type: 'token_refused', reason: 'invalid_client', clientId: 'forger', clientIp: '127.0.0.1', userAgent: USER_AGENT });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the "login refused" log line', () => {
  it('carries the reason code under `reason`, which the logger does not redact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idgate-audit-'));
    try {
      const idp = await startAuditedIssuer(dir, { trustProxy: false, logLevel: 'info' });
      expect((await fetch(`${idp.url}/approval?req=no-such-request`)).status).toBe(400);
      await idp.close();
      const refused = idp.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'login refused');
      expect(refused).toMatchObject({ level: 'info', reason: 'request_not_found' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('audit lines', () => {
  it('drop fields that carry credentials and keep the reason out of `code`', () => {
    const line = JSON.parse(auditLine({ event: 'token_refused', outcome: 'refused', reason: 'invalid_grant', code: 'c0de', client_secret: 's3cret', password: 'pw', refresh_token: 'rt' }, undefined, 0)) as Record<string, unknown>;
    expect(line).toEqual({ time: '1970-01-01T00:00:00.000Z', type: 'token_refused', outcome: 'refused', reason: 'invalid_grant' });
  });

  it('cut a client id or user agent a client made long', () => {
    const written: string[] = [];
    const stream = createAuditStream([{ write: (text) => void written.push(text) }], () => 0);
    stream.within({ requestId: 'r1', clientIp: '192.0.2.1', userAgent: 'ua' }, () => stream.write({ event: 'token_refused', outcome: 'refused', clientId: 'x'.repeat(5000) }));
    const line = JSON.parse(written[0]!) as Line;
    expect(line).toMatchObject({ requestId: 'r1', clientIp: '192.0.2.1', userAgent: 'ua' });
    expect(line.clientId!.length).toBeLessThan(300);
  });
});
