/**
 * Dex's management API on two real idgate replicas (child processes) sharing one PostgreSQL schema,
 * each serving the API over mutual TLS: what one replica's API changes, the other serves without a
 * restart — a client created on A logs in on B, a password created on A logs in on B, a refresh token
 * issued on B is listed and revoked on A, a connector created on A reaches B's chooser at its re-list
 * and leaves it when deleted on B.
 */
import * as client from 'openid-client';
import { status } from '@grpc/grpc-js';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN } from '../../helpers/issuer.js';
import { freePort, issuerBody, postgresStorage, startBalancer, startReplica, tempDir, waitFor, type Balancer, type Replica } from '../../replicas/cluster.js';
import { dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from '../../storage/postgres-helpers.js';
import { makeCertificates, type TestCertificates } from './certs.js';
import { chooserOptions, dexClient, failure, logIn, type DexClient } from './harness.js';

const schema = randomSchemaName();
const REDIRECT = 'http://127.0.0.1:5555/replicated/callback';
const MOVED = 'http://127.0.0.1:5555/replicated/moved';
let certs: TestCertificates;
let dir: Awaited<ReturnType<typeof tempDir>>;
let balancer: Balancer;
let issuer: string;
let a: Replica;
let b: Replica;
let addresses: { a: string; b: string };
let apiA: DexClient;
let apiB: DexClient;

beforeAll(async () => {
  await requirePostgres();
  certs = await makeCertificates();
  dir = await tempDir();
  balancer = await startBalancer('http://127.0.0.1:1');
  issuer = `${balancer.origin}/dex`;
  const [portA, portB] = [await freePort(), await freePort()];
  const grpc = (port: number) => `grpc:\n  addr: 127.0.0.1:${port}\n  tlsCert: ${certs.files.serverCert}\n  tlsKey: ${certs.files.serverKey}\n  tlsClientCA: ${certs.files.ca}\n`;
  const storage = postgresStorage(TEST_POSTGRES_URL, schema);
  [a, b] = await Promise.all([
    startReplica({ name: 'a', issuer, body: issuerBody(storage, grpc(portA)), dir: dir.dir }),
    startReplica({ name: 'b', issuer, body: issuerBody(storage, grpc(portB)), dir: dir.dir }),
  ]);
  addresses = { a: `127.0.0.1:${portA}`, b: `127.0.0.1:${portB}` };
  apiA = dexClient(addresses.a, { ca: certs.ca, ...certs.client });
  apiB = dexClient(addresses.b, { ca: certs.ca, ...certs.client });
}, 90_000);

afterAll(async () => {
  apiA?.close();
  apiB?.close();
  await Promise.allSettled([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
  await balancer?.close();
  await dropSchema(schema);
  await dir?.remove();
  await certs?.remove();
});

/** Every request of the shared issuer URL goes to `replica`. */
function via(replica: Replica): void {
  balancer.route = () => replica.origin;
}

function relyingParty(clientId: string, secret: string): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
}

describe('the management API on two replicas', () => {
  let clientId: string;
  let secret: string;
  let refreshToken: string;
  let sub: string;

  it('refuses, on each replica, a caller without a certificate or with one from another CA', async () => {
    for (const address of [addresses.a, addresses.b]) {
      const anonymous = dexClient(address, { ca: certs.ca });
      const stranger = dexClient(address, { ca: certs.ca, ...certs.untrusted });
      try {
        expect((await failure(anonymous.call('CreateClient', { client: { id: 'sneaky', public: true } }))).code).toBe(status.UNAVAILABLE);
        expect((await failure(stranger.call('CreateClient', { client: { id: 'sneaky', public: true } }))).code).toBe(status.UNAVAILABLE);
      } finally {
        anonymous.close();
        stranger.close();
      }
    }
    expect(await apiA.call('GetClient', { id: 'sneaky' }).catch((error: { code: status }) => error.code)).toBe(status.NOT_FOUND);
  });

  it('creates a client on A that logs a person in on B; B answers already_exists for its ID', async () => {
    const created = await apiA.call<{ client: { id: string; secret: string } }>('CreateClient', { client: { redirect_uris: [REDIRECT], name: 'Replicated' } });
    ({ id: clientId, secret } = created.client);
    via(b);
    const tokens = await logIn(await relyingParty(clientId, secret), { redirectURI: REDIRECT, username: ADMIN.email, password: ADMIN.password });
    expect(tokens.claims()).toMatchObject({ iss: issuer, aud: clientId });
    refreshToken = tokens.refresh_token!;
    sub = tokens.claims()!.sub;
    expect(await apiB.call('CreateClient', { client: { id: clientId, redirect_uris: [MOVED] } })).toMatchObject({ already_exists: true });
    expect(await apiB.call('UpdateClient', { id: 'no-such-client', name: 'x' })).toEqual({ not_found: true });
  });

  it('updates its redirect URIs on B, and A follows', async () => {
    expect(await apiB.call('UpdateClient', { id: clientId, redirect_uris: [MOVED] })).toEqual({ not_found: false });
    via(a);
    const tokens = await logIn(await relyingParty(clientId, secret), { redirectURI: MOVED, username: ADMIN.email, password: ADMIN.password, scope: 'openid' });
    expect(tokens.claims()!.aud).toBe(clientId);
    await expect(logIn(await relyingParty(clientId, secret), { redirectURI: REDIRECT, username: ADMIN.email, password: ADMIN.password })).rejects.toThrow(/answered 400/);
  });

  it('creates, verifies, updates and deletes a password across the replicas, logging in as that user', async () => {
    const user = { email: 'carol@example.com', user_id: 'carol-1', username: 'Carol' };
    expect(await apiA.call('CreatePassword', { password: { ...user, hash: Buffer.from(bcrypt.hashSync('first password', 10)) } })).toEqual({ already_exists: false });
    expect(await apiB.call('CreatePassword', { password: { ...user, hash: Buffer.from(bcrypt.hashSync('other', 10)) } })).toEqual({ already_exists: true });
    expect(await apiB.call('VerifyPassword', { email: user.email, password: 'first password' })).toEqual({ verified: true, not_found: false });
    expect(await apiB.call('VerifyPassword', { email: user.email, password: 'wrong' })).toEqual({ verified: false, not_found: false });
    via(b);
    const asCarol = async (password: string) => logIn(await relyingParty(clientId, secret), { redirectURI: MOVED, username: user.email, password, scope: 'openid email' });
    expect((await asCarol('first password')).claims()).toMatchObject({ email: user.email });
    expect(await apiB.call('UpdatePassword', { email: user.email, new_hash: Buffer.from(bcrypt.hashSync('second password', 10)) })).toEqual({ not_found: false });
    via(a);
    await expect(asCarol('first password')).rejects.toThrow(/login page answered 401/);
    expect((await asCarol('second password')).claims()).toMatchObject({ email: user.email });
    expect(await apiA.call('DeletePassword', { email: user.email })).toEqual({ not_found: false });
    expect(await apiB.call('VerifyPassword', { email: user.email, password: 'second password' })).toEqual({ verified: false, not_found: true });
    via(b);
    await expect(asCarol('second password')).rejects.toThrow(/login page answered 401/);
    expect(await apiB.call('DeletePassword', { email: user.email })).toEqual({ not_found: true });
  });

  it('lists on A the refresh token B issued, revokes it on A, and B refuses it at /token', async () => {
    const listed = await apiA.call<{ refresh_tokens: Array<{ client_id: string }> }>('ListRefresh', { user_id: sub });
    expect(listed.refresh_tokens.map((ref) => ref.client_id)).toContain(clientId);
    expect(await apiA.call('RevokeRefresh', { user_id: sub, client_id: clientId })).toEqual({ not_found: false });
    via(b);
    await expect(client.refreshTokenGrant(await relyingParty(clientId, secret), refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await apiB.call('RevokeRefresh', { user_id: sub, client_id: clientId })).toEqual({ not_found: true });
  });

  it("puts a connector created on A on A's chooser at once and on B's at its re-list; deleted on B, it leaves both", async () => {
    const chooser = (replica: Replica) => {
      via(replica);
      return chooserOptions(issuer, clientId, MOVED);
    };
    expect(await apiA.call('CreateConnector', { connector: { id: 'runtime-mock', type: 'mockCallback', name: 'Runtime Mock', config: Buffer.from('{}') } })).toEqual({ already_exists: false });
    expect(await chooser(a)).toContainEqual(['runtime-mock', 'Runtime Mock']);
    await waitFor('B to open the new connector', async () => ((await chooser(b)).some(([id]) => id === 'runtime-mock') ? true : undefined), 30_000);
    via(b);
    const tokens = await logIn(await relyingParty(clientId, secret), { redirectURI: MOVED, username: '', password: '', connector: 'runtime-mock', scope: 'openid' });
    expect(tokens.claims()!.sub).not.toBe(sub);
    expect(await apiA.call('CreateConnector', { connector: { id: 'runtime-mock', type: 'mockCallback', name: 'Again', config: Buffer.from('{}') } })).toEqual({ already_exists: true });

    expect(await apiB.call('DeleteConnector', { id: 'runtime-mock' })).toEqual({ not_found: false });
    expect((await chooser(b)).map(([id]) => id)).not.toContain('runtime-mock');
    await waitFor('A to close the deleted connector', async () => ((await chooser(a)).some(([id]) => id === 'runtime-mock') ? undefined : true), 30_000);
    expect(await apiA.call('DeleteConnector', { id: 'runtime-mock' })).toEqual({ not_found: true });
  }, 90_000);

  it('deletes the client on B, and A refuses it at /token', async () => {
    expect(await apiB.call('DeleteClient', { id: clientId })).toEqual({ not_found: false });
    via(a);
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'anything' }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_client');
    expect(await apiA.call('DeleteClient', { id: clientId })).toEqual({ not_found: true });
  });
});
