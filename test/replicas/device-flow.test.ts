/**
 * The device flow across two real idgate processes on one PostgreSQL schema, behind one issuer URL:
 * the device asks replica A for its codes, polls B while the person has not answered, the person
 * enters the code, logs in and approves on B, A hands out the tokens, and B refuses the used code.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actAsPerson, poll, requestDeviceCodes } from '../helpers/device.js';
import { EXAMPLE_APP } from '../helpers/issuer.js';
import { dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from '../storage/postgres-helpers.js';
import { issuerBody, postgresStorage, startBalancer, startReplica, tempDir, type Balancer, type Replica } from './cluster.js';

const schema = randomSchemaName();
let dir: Awaited<ReturnType<typeof tempDir>>;
let balancer: Balancer;
let a: Replica;
let b: Replica;
let issuer: string;

beforeAll(async () => {
  await requirePostgres();
  dir = await tempDir();
  balancer = await startBalancer('http://127.0.0.1:1');
  issuer = `${balancer.origin}/dex`;
  const body = issuerBody(postgresStorage(TEST_POSTGRES_URL, schema)).replace('oauth2:\n', 'oauth2:\n  devicePollingInterval: 1s\n');
  [a, b] = await Promise.all([startReplica({ name: 'a', issuer, body, dir: dir.dir }), startReplica({ name: 'b', issuer, body, dir: dir.dir })]);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
  await balancer?.close();
  await dropSchema(schema);
  await dir?.remove();
});

describe('device flow on two replicas', () => {
  it('asks on A, is approved on B, gets the tokens from A, and B refuses the used device code', async () => {
    balancer.route = () => a.origin;
    const codes = await requestDeviceCodes(issuer);

    balancer.route = () => b.origin;
    expect((await poll(issuer, codes.device_code)).body.error).toBe('authorization_pending');
    balancer.log.length = 0;
    const done = await actAsPerson(issuer, codes.verification_uri_complete);
    expect(done.status).toBe(200);
    expect(balancer.log.some((line) => line.startsWith(`${b.origin} POST /dex/device/auth/verify_code`))).toBe(true);
    expect(balancer.log.every((line) => line.startsWith(b.origin))).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the interval since B's poll
    balancer.route = () => a.origin;
    const tokens = await poll(issuer, codes.device_code);
    expect(tokens.status).toBe(200);
    const { payload } = await jwtVerify(tokens.body.access_token!, createRemoteJWKSet(new URL(`${issuer}/keys`)), { issuer });
    expect(payload).toMatchObject({ client_id: EXAMPLE_APP.id, aud: EXAMPLE_APP.id });

    balancer.route = () => b.origin;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const replay = await poll(issuer, codes.device_code);
    expect({ status: replay.status, error: replay.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
  }, 60_000);
});
