/**
 * Two real idgate processes on one PostgreSQL schema behave as one issuer: a login started on one
 * finishes on the other, refresh tokens rotate across them (concurrent refreshes included, with the
 * reuseInterval rules), they rotate signing keys once and serve the same /keys, and when one is killed
 * mid-login the person finishes on the other.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/storage/secrets.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { followLogin, LoginPageError } from '../helpers/http-login.js';
import { ADMIN, EXAMPLE_APP } from '../helpers/issuer.js';
import { dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from '../storage/postgres-helpers.js';
import {
  authorizationRequest, issuerBody, postgresStorage, relyingParty, startBalancer, startReplica, tempDir, type Balancer, type Replica,
} from './cluster.js';

const REUSE_INTERVAL_MS = 2_000;
const schema = randomSchemaName();
let dir: Awaited<ReturnType<typeof tempDir>>;
let balancer: Balancer;
let a: Replica;
let b: Replica;
let issuer: string;
let storage: Storage;

beforeAll(async () => {
  await requirePostgres();
  dir = await tempDir();
  balancer = await startBalancer('http://127.0.0.1:1');
  issuer = `${balancer.origin}/dex`;
  const body = issuerBody(postgresStorage(TEST_POSTGRES_URL, schema), `expiry:\n  refreshTokens:\n    reuseInterval: ${REUSE_INTERVAL_MS}ms\nsigner:\n  config:\n    keysRotationPeriod: 3s\n`);
  // Started together on an empty schema: the migrations' advisory lock lets exactly one apply them.
  [a, b] = await Promise.all([startReplica({ name: 'a', issuer, body, dir: dir.dir }), startReplica({ name: 'b', issuer, body, dir: dir.dir })]);
  balancer.route = () => a.origin;
  storage = await openStorage({ type: 'postgres', config: { connectionString: TEST_POSTGRES_URL, schema } });
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
  await storage?.close();
  await balancer?.close();
  await dropSchema(schema);
  await dir?.remove();
});

async function logInVia(first: Replica, rest: Replica) {
  const config = await relyingParty(issuer, rest);
  const request = await authorizationRequest(config);
  balancer.log.length = 0;
  balancer.route = (req) => (req.url?.startsWith('/dex/auth?') ? first.origin : rest.origin);
  const callback = await followLogin(request.url.toString(), { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state });
  return { tokens, served: [...balancer.log] };
}

describe('two replicas on one PostgreSQL', () => {
  it('completes on B a login started on A (the auth request and its CSRF token live in storage)', async () => {
    const { tokens, served } = await logInVia(a, b);
    expect(served[0]).toMatch(new RegExp(`^${a.origin} GET /dex/auth\\?`));
    expect(served.length).toBeGreaterThan(2);
    expect(served.slice(1).every((line) => line.startsWith(b.origin))).toBe(true);
    expect(served.some((line) => line.includes('POST /dex/auth/local/login'))).toBe(true);
    expect(tokens.claims()).toMatchObject({ iss: issuer, aud: EXAMPLE_APP.id, email: ADMIN.email });
  });

  it('rotates on B a refresh token issued by A, and A accepts the rotated one', async () => {
    const { tokens } = await logInVia(a, a);
    const onB = await client.refreshTokenGrant(await relyingParty(issuer, b), tokens.refresh_token!);
    expect(onB.refresh_token).not.toBe(tokens.refresh_token);
    const onA = await client.refreshTokenGrant(await relyingParty(issuer, a), onB.refresh_token!);
    expect(onA.claims()!.sub).toBe(tokens.claims()!.sub);
  });

  it('rotates once for two concurrent refreshes of one token on A and B: within reuseInterval both get the same new token', async () => {
    const { tokens } = await logInVia(a, b);
    const original = tokens.refresh_token!;
    const [viaA, viaB] = await Promise.all([relyingParty(issuer, a), relyingParty(issuer, b)]);
    const [onA, onB] = await Promise.all([client.refreshTokenGrant(viaA, original), client.refreshTokenGrant(viaB, original)]);
    // Dex's reuseInterval semantics: the loser of the compare-and-swap sees the previous token within
    // the interval and is handed the winner's token, so exactly one new token exists.
    expect(onA.refresh_token).toBe(onB.refresh_token);
    expect(onA.refresh_token).not.toBe(original);
    const [familyId, secret] = onA.refresh_token!.split('.') as [string, string];
    const family = await storage.refreshTokens.get(familyId);
    expect(family!.tokenHash).toBe(hashToken(secret));
    expect(family!.obsoleteTokenHash).toBe(hashToken(original.split('.')[1]!));
    // The one new token works (on either replica).
    expect((await client.refreshTokenGrant(viaB, onA.refresh_token!)).refresh_token).toBeTruthy();
  });

  it('treats the rotated token as reuse after reuseInterval on the other replica: refused, and the grant revoked', async () => {
    const { tokens } = await logInVia(a, a);
    const rotated = await client.refreshTokenGrant(await relyingParty(issuer, a), tokens.refresh_token!);
    await new Promise((resolve) => setTimeout(resolve, REUSE_INTERVAL_MS + 300));
    const viaB = await relyingParty(issuer, b);
    await expect(client.refreshTokenGrant(viaB, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.refreshTokenGrant(await relyingParty(issuer, a), rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await storage.refreshTokens.get(tokens.refresh_token!.split('.')[0]!)).toBeUndefined();
    // Every access token the family issued is denied by its grant tag (its sid is the browser's login session's).
    const tags = [tokens.access_token, rotated.access_token].map((accessToken) => {
      const { jti } = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { jti: string };
      return jti.split('.')[0]!;
    });
    expect(tags[1]).toBe(tags[0]);
    expect(await storage.revocations.get(`grant:${issuer} ${tags[0]}`)).toMatchObject({ kind: 'grant' });
  });

  it('rotates signing keys once while both run, and both serve the same /keys', async () => {
    const kidsOf = async (replica: Replica) =>
      ((await (await fetch(`${replica.origin}/dex/keys`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid).sort().join(',');
    const seen = new Set<string>();
    const sets: string[] = [];
    // Both replicas asked at once, until two rotations (3 s apart) were seen, or 20 s at most.
    const giveUp = Date.now() + 20_000;
    while (sets.length < 3 && Date.now() < giveUp) {
      const [fromA, fromB] = await Promise.all([kidsOf(a), kidsOf(b)]);
      for (const kids of [fromA, fromB]) {
        for (const kid of kids.split(',')) seen.add(kid);
        if (sets.at(-1) !== kids && !sets.includes(kids)) sets.push(kids);
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const [finalA, finalB] = [await kidsOf(a), await kidsOf(b)];
    expect(finalA).toBe(finalB);
    // Every key either replica ever published is still published by both: no replica rotated alone.
    expect(finalA.split(',').sort()).toEqual([...seen].sort());
    // Each rotation published exactly one new key (the next one), and there were at least two.
    expect(sets.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < sets.length; i++) {
      const added = sets[i]!.split(',').filter((kid) => !sets[i - 1]!.split(',').includes(kid));
      expect(added).toHaveLength(1);
    }
    // A token signed by A verifies with B's keys (openid-client checks the ID token signature).
    const { tokens } = await logInVia(a, a);
    const viaB = await relyingParty(issuer, b);
    expect((await client.refreshTokenGrant(viaB, tokens.refresh_token!)).claims()!.iss).toBe(issuer);
  });

  it('counts failed password attempts on A and B together (login.throttle is shared)', async () => {
    const config = await relyingParty(issuer, a);
    let next = 0;
    const replicas = [a, b];
    balancer.route = (req) => (req.method === 'POST' && req.url?.startsWith('/dex/auth/local/login') ? replicas[next++ % 2]! : a).origin;
    const attempt = async (password: string) => {
      const request = await authorizationRequest(config);
      return followLogin(request.url.toString(), { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password }).then(
        () => 302,
        (error: unknown) => (error instanceof LoginPageError ? error.status : Promise.reject(error)),
      );
    };
    try {
      // Default maxFailures 5: two replicas counting alone would allow 2 x 4 failures before a lock.
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push(await attempt('wrong'));
      expect(statuses).toEqual([401, 401, 401, 401, 429]);
      expect(next).toBe(5);
      expect(await attempt(ADMIN.password)).toBe(429); // locked on both, even with the right password
      expect(await attempt(ADMIN.password)).toBe(429);
    } finally {
      for (const record of await storage.loginFailures.list()) await storage.loginFailures.delete(record.id);
      balancer.route = () => a.origin;
    }
  });

  it('lets the person finish on B a login whose /auth was served by A, after A is killed (SIGKILL)', async () => {
    const config = await relyingParty(issuer, b);
    const request = await authorizationRequest(config);
    balancer.route = () => a.origin;
    // One browser throughout: the login is bound to the cookie A set.
    const jar = new CookieJar();
    const started = await fetch(request.url, { redirect: 'manual' });
    jar.store(request.url, started);
    expect(started.status).toBe(302);
    const next = new URL(started.headers.get('location')!, request.url).toString();
    await a.stop('SIGKILL');
    expect(a.child.signalCode).toBe('SIGKILL');
    balancer.route = () => b.origin;
    const callback = await followLogin(next, { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password, jar });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state });
    expect(tokens.claims()).toMatchObject({ iss: issuer, email: ADMIN.email });
  });
});
