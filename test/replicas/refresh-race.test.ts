/**
 * Two concurrent refreshes of one token on two replicas with `reuseInterval: 0s` (the strict setting;
 * the default is covered with real processes in replicas.test.ts). Two issuers in this process, each
 * with its own PostgreSQL pool on one schema, stand for the replicas: exactly one refresh succeeds, the
 * other is invalid_grant, and the session is intact exactly when no revocation was recorded (the loser
 * revokes it only when it read the family after the winner's rotation: a replay).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, DEFAULT_TEST_CONFIG, EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from '../storage/postgres-helpers.js';

const schema = randomSchemaName();
const CONFIG = `${DEFAULT_TEST_CONFIG}expiry:\n  refreshTokens:\n    reuseInterval: 0s\n`;
const storages: Storage[] = [];
const replicas: TestIssuer[] = [];

beforeAll(async () => {
  await requirePostgres();
  for (let i = 0; i < 2; i++) {
    const storage = await openStorage({ type: 'postgres', config: { connectionString: TEST_POSTGRES_URL, schema } });
    storages.push(storage);
    replicas.push(await startTestIssuer({ storage, configYaml: CONFIG }));
  }
});

afterAll(async () => {
  await Promise.allSettled(replicas.map((replica) => replica.close()));
  await Promise.allSettled(storages.map((storage) => storage.close()));
  await dropSchema(schema);
});

async function logIn(): Promise<string> {
  const [a] = replicas;
  const config = await client.discovery(new URL(a!.url), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), {
    execute: [client.allowInsecureRequests],
  });
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid offline_access', connector_id: 'local',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await followLogin(url.toString(), { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
  return (await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })).refresh_token!;
}

async function refresh(replica: TestIssuer, token: string): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${replica.url}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${EXAMPLE_APP.id}:${EXAMPLE_APP.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('concurrent refreshes on two replicas with reuseInterval 0s', () => {
  it('lets exactly one succeed; the session survives exactly when the loser was not a replay', async () => {
    for (let round = 0; round < 25; round++) {
      const token = await logIn();
      const sid = token.split('.')[0]!;
      const answers = await Promise.all(replicas.map((replica) => refresh(replica, token)));
      const winners = answers.filter((answer) => answer.status === 200);
      const losers = answers.filter((answer) => answer.status !== 200);
      expect(winners).toHaveLength(1);
      expect(losers).toEqual([{ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) as unknown }]);
      const revoked = (await storages[0]!.revocations.get(`sid:${sid}`)) !== undefined;
      const next = await refresh(replicas[1]!, winners[0]!.body.refresh_token!);
      expect(next.status).toBe(revoked ? 400 : 200);
    }
  });
});
