/**
 * The browser's login session across two real idgate processes on one PostgreSQL schema, behind one
 * balancer: a session started on A answers the other client on B without the password, and a session
 * ended on B (logout) is no session on A at once — A's /auth, /userinfo and refresh all refuse it.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../helpers/cookie-jar.js';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, EXAMPLE_APP, PUBLIC_APP } from '../helpers/issuer.js';
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
  const body = issuerBody(postgresStorage(TEST_POSTGRES_URL, schema));
  [a, b] = await Promise.all([startReplica({ name: 'a', issuer, body, dir: dir.dir }), startReplica({ name: 'b', issuer, body, dir: dir.dir })]);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
  await balancer?.close();
  await dropSchema(schema);
  await dir?.remove();
});

/** Every request of the browser and the relying parties goes to `replica`. */
function via(replica: Replica): void {
  balancer.route = () => replica.origin;
}

const party = (app: { id: string; secret?: string }) => client.discovery(
  new URL(issuer), app.id, undefined, app.secret ? client.ClientSecretBasic(app.secret) : client.None(), { execute: [client.allowInsecureRequests] },
);

async function signIn(config: client.Configuration, redirectURI: string, jar: CookieJar, params: Record<string, string> = {}, password?: string) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectURI, scope: 'openid email offline_access', state, connector_id: 'local',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params,
  });
  const visited: string[] = [];
  const landed = await followLogin(url.toString(), { redirectURI, jar, visited, ...(password ? { username: ADMIN.email, password } : {}) });
  return { landed, visited, redeem: () => client.authorizationCodeGrant(config, landed, { pkceCodeVerifier: verifier, expectedState: state }) };
}

describe('login sessions on two replicas', () => {
  it('starts a session on A that answers the other client on B, then ends it on B so that A refuses it', async () => {
    via(a);
    const [example, publicApp] = await Promise.all([party(EXAMPLE_APP), party(PUBLIC_APP)]);
    const jar = new CookieJar();
    const first = await (await signIn(example, EXAMPLE_APP.redirectURI, jar, {}, ADMIN.password)).redeem();
    via(b);
    const onB = await signIn(publicApp, PUBLIC_APP.redirectURI, jar);
    expect(onB.visited.some((url) => url.includes('/login'))).toBe(false);
    const second = await onB.redeem();
    expect(second.claims()!.sid).toBe(first.claims()!.sid);

    // Logout on B, with the hint of A's ID token.
    const logout = await fetch(client.buildEndSessionUrl(example, { id_token_hint: first.id_token! }), { headers: { cookie: jar.header(issuer)! } });
    expect(await logout.text()).toContain('You are signed out');

    via(a);
    // The browser still sends its cookie: A finds no session behind it.
    expect((await signIn(example, EXAMPLE_APP.redirectURI, jar, { prompt: 'none' })).landed.searchParams.get('error')).toBe('login_required');
    for (const [config, tokens] of [[example, first], [publicApp, second]] as const) {
      await expect(client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
      await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    }
  });

  it('refuses on A a forged session cookie, and clears it', async () => {
    via(a);
    const example = await party(EXAMPLE_APP);
    const jar = new CookieJar();
    jar.store(issuer, new Response(null, { headers: { 'set-cookie': `idgate_session=${'x'.repeat(43)}; Path=/dex` } }));
    expect((await signIn(example, EXAMPLE_APP.redirectURI, jar, { prompt: 'none' })).landed.searchParams.get('error')).toBe('login_required');
    expect(jar.get(issuer, 'idgate_session')).toBeUndefined();
  });
});
