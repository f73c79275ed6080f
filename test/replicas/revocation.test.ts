/**
 * A revocation reaches the filter within a second. PostgreSQL: idgate A serves the issuer, idgate B
 * runs only the filter (ext_authz HTTP) on the same schema; a token the filter has already allowed
 * (so it sits in B's verified-token cache) is revoked at A, through RFC 7009 or the sessions CLI, and
 * the time until B's first 401 is measured and printed. SQLite: one process, the polling feed.
 */
import path from 'node:path';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSessionsCommand } from '../../src/admin/sessions.js';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, EXAMPLE_APP } from '../helpers/issuer.js';
import { dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from '../storage/postgres-helpers.js';
import {
  authorizationRequest, freePort, issuerBody, postgresStorage, relyingParty, startBalancer, startReplica, tempDir, type Balancer, type Replica,
} from './cluster.js';

const REVOCATION_DEADLINE_MS = 1_000;
const schema = randomSchemaName();
let dir: Awaited<ReturnType<typeof tempDir>>;
let balancer: Balancer;
const processes: Replica[] = [];

beforeAll(async () => {
  await requirePostgres();
  dir = await tempDir();
  balancer = await startBalancer('http://127.0.0.1:1');
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(processes.map((replica) => replica.stop('SIGKILL')));
  await balancer?.close();
  await dropSchema(schema);
  await dir?.remove();
});

function filterSection(port: number, issuer: string, jwksUri?: string): string {
  return `filter:
  http: 127.0.0.1:${port}
  jwtRules:
    - issuer: ${issuer}${jwksUri ? `\n      jwksUri: ${jwksUri}` : ''}
  audit:
    enabled: false
  watch: false
`;
}

/** Logs in up to the redirect back to the app, with the code not yet redeemed. */
async function logInUntilCode(issuer: string, scope?: string) {
  const config = await relyingParty(issuer);
  const request = await authorizationRequest(config, scope);
  const callback = await followLogin(request.url.toString(), { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
  const redeem = () => client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state });
  return { config, redeem };
}

async function logIn(issuer: string, scope?: string) {
  const { config, redeem } = await logInUntilCode(issuer, scope);
  return { config, tokens: await redeem() };
}

/** Waits for the next whole second: a token's iat must be later than a subject revocation's second. */
async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 5));
}

/** One nginx auth_request to the filter, as the ingress would send it. */
async function check(filter: string, accessToken: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${filter}/nginx`, {
    headers: { authorization: `Bearer ${accessToken}`, 'x-original-url': 'http://shop.example.com/api/orders', 'x-original-method': 'GET' },
  });
  return { status: response.status, body: await response.text() };
}

/** Revokes, then asks the filter until it refuses; returns the ms from the revocation call to the first 401. */
async function timeToDenial(filter: string, accessToken: string, revoke: () => Promise<void>): Promise<{ ms: number; body: string }> {
  expect((await check(filter, accessToken)).status).toBe(200); // allowed, and now in the filter's token cache
  expect((await check(filter, accessToken)).status).toBe(200);
  const started = performance.now();
  await revoke();
  for (;;) {
    const answer = await check(filter, accessToken);
    const ms = performance.now() - started;
    if (answer.status !== 200 || ms > 10_000) {
      expect(answer.status).toBe(401);
      return { ms, body: answer.body };
    }
  }
}

describe('revocation reaches a filter in another process (PostgreSQL LISTEN/NOTIFY)', () => {
  let issuer: string;
  let filter: string;
  let configFile: string;

  beforeAll(async () => {
    issuer = `${balancer.origin}/dex`;
    const storage = issuerBody(postgresStorage(TEST_POSTGRES_URL, schema));
    const a = await startReplica({ name: 'issuer-a', issuer, body: storage, dir: dir.dir });
    processes.push(a);
    balancer.route = () => a.origin;
    const filterPort = await freePort();
    const b = await startReplica({ name: 'filter-b', issuer, web: false, filterPort, body: `${storage}${filterSection(filterPort, issuer, `${a.origin}/dex/keys`)}`, dir: dir.dir });
    processes.push(b);
    filter = b.filter!;
    configFile = path.join(dir.dir, 'issuer-a.yaml');
  }, 90_000);

  it('denies every token of a session within a second of its refresh token being revoked (RFC 7009)', async () => {
    const { config, tokens } = await logIn(issuer);
    const { ms, body } = await timeToDenial(filter, tokens.access_token, () => client.tokenRevocation(config, tokens.refresh_token!));
    console.log(`PostgreSQL: refresh token revoked at A -> first 401 at filter B after ${ms.toFixed(0)} ms`);
    expect(body).toMatch(/revoked/);
    expect(ms).toBeLessThan(REVOCATION_DEADLINE_MS);
  });

  it('denies a single access token within a second of its revocation, and not its session\'s next token', async () => {
    const { config, tokens } = await logIn(issuer);
    const { ms } = await timeToDenial(filter, tokens.access_token, () => client.tokenRevocation(config, tokens.access_token));
    console.log(`PostgreSQL: access token revoked at A -> first 401 at filter B after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(REVOCATION_DEADLINE_MS);
    const next = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect((await check(filter, next.access_token)).status).toBe(200);
  });

  it('denies within a second every session of a user revoked with `idgate sessions revoke`', async () => {
    const { tokens } = await logIn(issuer);
    const out = { stdout: '', stderr: '' };
    const io = { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) };
    const { ms } = await timeToDenial(filter, tokens.access_token, async () => {
      expect(await runSessionsCommand(['revoke', '--config', configFile, '--user', ADMIN.userId], io)).toBe(0);
    });
    console.log(`PostgreSQL: sessions CLI revoke -> first 401 at filter B after ${ms.toFixed(0)} ms`);
    expect(out.stdout).toMatch(/revoked [1-9]\d* session\(s\)/);
    expect(ms).toBeLessThan(REVOCATION_DEADLINE_MS);
    await nextSecond();
  });

  it('ends with `idgate sessions revoke` the sessions that have no refresh token too, and lets the user log in again', async () => {
    const { tokens } = await logIn(issuer, 'openid email');
    expect(tokens.refresh_token).toBeUndefined(); // no offline_access: nothing of this session is stored
    const pending = await logInUntilCode(issuer, 'openid email');
    const out = { stdout: '', stderr: '' };
    const io = { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) };
    const { ms } = await timeToDenial(filter, tokens.access_token, async () => {
      expect(await runSessionsCommand(['revoke', '--config', configFile, '--user', ADMIN.userId, '--connector', 'local'], io)).toBe(0);
    });
    console.log(`PostgreSQL: sessions CLI revoke of a session without refresh token -> first 401 at filter B after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(REVOCATION_DEADLINE_MS);
    expect(out.stdout).toMatch(/revoked every token issued until now to sub \S+ \(connector local\)/);
    expect(JSON.parse(out.stderr.split('\n')[0]!)).toMatchObject({ type: 'subject_revoked', reason: 'revoked_by_admin', connectorId: 'local' });

    const userinfo = await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    // A code issued before the revocation is refused when redeemed after it.
    await expect(pending.redeem()).rejects.toMatchObject({ error: 'invalid_grant' });

    await nextSecond();
    const again = await logIn(issuer, 'openid email');
    expect((await check(filter, again.tokens.access_token)).status).toBe(200);
    expect((await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${again.tokens.access_token}` } })).status).toBe(200);
  });

  it('reports on /healthz/ready what each process checks: storage for the issuer, the filter for a filter-only one', async () => {
    const ready = async (replica: Replica) => {
      const response = await fetch(`${replica.telemetry}/healthz/ready`);
      return { status: response.status, body: (await response.json()) as unknown };
    };
    expect(await ready(processes[0]!)).toEqual({ status: 200, body: { status: 'ready', checks: { storage: 'ok' } } });
    expect(await ready(processes[1]!)).toEqual({ status: 200, body: { status: 'ready', checks: { filter: 'ok' } } });
  });

  it('keeps allowing tokens of sessions nobody revoked', async () => {
    const { tokens } = await logIn(issuer);
    expect((await check(filter, tokens.access_token)).status).toBe(200);
  });
});

describe('revocation reaches the filter with SQLite (polling feed, issuer and filter in one process)', () => {
  it('denies within a second a session revoked through RFC 7009', async () => {
    const filterPort = await freePort();
    const issuer = `${balancer.origin}/dex`;
    const body = issuerBody(`storage:\n  type: sqlite3\n  config:\n    file: ${path.join(dir.dir, 'idgate.db')}\n`, filterSection(filterPort, issuer));
    const one = await startReplica({ name: 'sqlite', issuer, filterPort, body, dir: dir.dir });
    processes.push(one);
    balancer.route = () => one.origin;
    const { config, tokens } = await logIn(issuer);
    const { ms } = await timeToDenial(one.filter!, tokens.access_token, () => client.tokenRevocation(config, tokens.refresh_token!));
    console.log(`SQLite: refresh token revoked -> first 401 at the filter after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(REVOCATION_DEADLINE_MS);
  });
});
