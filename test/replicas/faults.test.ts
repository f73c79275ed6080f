/**
 * Database faults under two running replicas: their PostgreSQL connections terminated mid-run
 * (pg_terminate_backend), and PostgreSQL going away and coming back (a TCP proxy in front of the test
 * server, taken down and up, which is a restart as the replicas see it). Requests caught in it get a
 * clear 503 temporarily_unavailable, never a wrong answer; /healthz/ready says not ready; service comes
 * back by itself, and nothing committed before is lost.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, EXAMPLE_APP } from '../helpers/issuer.js';
import {
  applicationNameFor, dropSchema, randomSchemaName, requirePostgres, terminateSchemaConnections, TEST_POSTGRES_URL,
} from '../storage/postgres-helpers.js';
import { startPostgresProxy, type PostgresOutage } from '../storage/postgres-proxy.js';
import {
  authorizationRequest, issuerBody, postgresStorage, relyingParty, startBalancer, startReplica, tempDir, waitFor, type Balancer, type Replica,
} from './cluster.js';

const schema = randomSchemaName();
let dir: Awaited<ReturnType<typeof tempDir>>;
let proxy: PostgresOutage;
let balancer: Balancer;
let replicas: Replica[] = [];
let issuer: string;

beforeAll(async () => {
  await requirePostgres();
  dir = await tempDir();
  const direct = new URL(TEST_POSTGRES_URL);
  proxy = await startPostgresProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const viaProxy = new URL(TEST_POSTGRES_URL);
  viaProxy.port = String(proxy.port);
  viaProxy.searchParams.set('application_name', applicationNameFor(schema)); // so pg_terminate_backend finds them
  balancer = await startBalancer('http://127.0.0.1:1');
  issuer = `${balancer.origin}/dex`;
  const body = issuerBody(postgresStorage(viaProxy.toString(), schema));
  replicas = await Promise.all(['a', 'b'].map((name) => startReplica({ name, issuer, body, dir: dir.dir })));
  let next = 0;
  balancer.route = () => replicas[next++ % replicas.length]!.origin;
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(replicas.map((replica) => replica.stop('SIGKILL')));
  await balancer?.close();
  await proxy?.close();
  await dropSchema(schema);
  await dir?.remove();
});

async function logIn() {
  const config = await relyingParty(issuer);
  const request = await authorizationRequest(config);
  const callback = await followLogin(request.url.toString(), { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state });
}

type Outcome = { status: number; body: Record<string, unknown> };

const BASIC = `Basic ${Buffer.from(`${EXAMPLE_APP.id}:${EXAMPLE_APP.secret}`).toString('base64')}`;

/** One refresh_token grant; a 200 is reported with the sub of its ID token, so it can be checked like userinfo. */
async function refresh(replica: Replica, token: string): Promise<Outcome> {
  const response = await fetch(`${replica.origin}/dex/token`, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) return { status: response.status, body };
  const claims = JSON.parse(Buffer.from(String(body.id_token).split('.')[1]!, 'base64url').toString()) as { sub: string };
  return { status: 200, body: { sub: claims.sub, refresh_token: body.refresh_token } };
}

/**
 * Keeps `perReplica` userinfo requests in flight against every replica, and one refresh chain per
 * refresh token (alternating replicas; after a 503 the same token is tried again, as a client would,
 * within reuseInterval), until `during` resolves.
 */
async function underLoad(accessToken: string, perReplica: number, during: () => Promise<void>, refreshTokens: string[] = []): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let running = true;
  const loop = async (replica: Replica) => {
    while (running) {
      const response = await fetch(`${replica.origin}/dex/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
      outcomes.push({ status: response.status, body: (await response.json()) as Record<string, unknown> });
    }
  };
  const chain = async (token: string) => {
    for (let n = 0; running; n++) {
      const outcome = await refresh(replicas[n % replicas.length]!, token);
      outcomes.push(outcome);
      if (outcome.status === 200) token = String(outcome.body.refresh_token);
    }
  };
  const loops = [...replicas.flatMap((replica) => Array.from({ length: perReplica }, () => loop(replica))), ...refreshTokens.map(chain)];
  try {
    await during();
  } finally {
    running = false;
    await Promise.all(loops);
  }
  return outcomes;
}

/** Right (the user's claims) or a clear 503; anything else is a wrong answer. */
function expectRightOr503(outcomes: Outcome[], sub: string): void {
  for (const outcome of outcomes) {
    if (outcome.status === 200) expect(outcome.body.sub).toBe(sub);
    else expect(outcome).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
  }
}

const readiness = async (replica: Replica) => (await fetch(`${replica.telemetry}/healthz/ready`)).status;

describe('database faults with two replicas', () => {
  it('answers 503 or right while its connections are terminated, and recovers by itself', async () => {
    const tokens = await logIn();
    const sub = tokens.claims()!.sub;
    const chains = [(await logIn()).refresh_token!, (await logIn()).refresh_token!];
    let terminated = 0;
    const outcomes = await underLoad(tokens.access_token, 2, async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      terminated = await terminateSchemaConnections(schema);
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const replica of replicas) await waitFor(`${replica.name} ready`, async () => ((await readiness(replica)) === 200 ? true : undefined));
    }, chains);
    const unavailable = outcomes.filter((outcome) => outcome.status === 503).length;
    console.log(`pg_terminate_backend: ${terminated} connections terminated; ${outcomes.length} requests in flight around it: ${outcomes.length - unavailable} right, ${unavailable} x 503`);
    expect(terminated).toBeGreaterThan(0);
    expectRightOr503(outcomes, sub);
    // Committed before the fault: the refresh token still works, on either replica.
    const refreshed = await client.refreshTokenGrant(await relyingParty(issuer, replicas[1]), tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(sub);
  });

  it('is not ready and answers 503 while PostgreSQL is down, and serves again once it is back', async () => {
    const tokens = await logIn();
    const sub = tokens.claims()!.sub;
    const outcomes = await underLoad(tokens.access_token, 2, async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await proxy.down();
      for (const replica of replicas) await waitFor(`${replica.name} not ready`, async () => ((await readiness(replica)) === 503 ? true : undefined));
      // A refresh while down is refused as unavailable, not as an invalid grant, and consumes nothing.
        expect(await refresh(replicas[0]!, tokens.refresh_token!)).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
      await proxy.up();
      for (const replica of replicas) await waitFor(`${replica.name} ready again`, async () => ((await readiness(replica)) === 200 ? true : undefined), 30_000);
    });
    const unavailable = outcomes.filter((outcome) => outcome.status === 503).length;
    console.log(`PostgreSQL restart (proxy down/up): ${outcomes.length} requests: ${outcomes.length - unavailable} right, ${unavailable} x 503`);
    expect(unavailable).toBeGreaterThan(0);
    expectRightOr503(outcomes, sub);
    for (const replica of replicas) {
      const after = await fetch(`${replica.origin}/dex/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(after.status).toBe(200);
    }
    const refreshed = await client.refreshTokenGrant(await relyingParty(issuer, replicas[0]), tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(sub);
  });
});
