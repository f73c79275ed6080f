/**
 * The device authorization endpoint (/device/code) and the device_code grant, rule by rule, on a
 * manual clock: what each refusal answers (RFC 8628 §3.2, §3.5), polling too fast, expiry, replay,
 * the binding to the client, PKCE as Dex accepts it, and that only hashes of the codes are stored.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { revokeSubject } from '../../src/oidc/revocation.js';
import { hashToken } from '../../src/storage/secrets.js';
import { actAsPerson, DEVICE_GRANT, EXAMPLE_CLIENT, poll, postForm, requestDeviceCodes } from '../helpers/device.js';
import { ADMIN, DEFAULT_TEST_CONFIG, PUBLIC_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

const CLIENTS = `  - id: no-device
    name: No Device
    secret: bm8tZGV2aWNlLXNlY3JldA
    grantTypes: [authorization_code, refresh_token]
    redirectURIs: [http://127.0.0.1:5555/cb]
connectors:
`;
const MINUTE = 60_000;

let idp: TestIssuer;
const clock = manualClock(Date.now());

beforeAll(async () => {
  idp = await startTestIssuer({ now: clock, configYaml: DEFAULT_TEST_CONFIG.replace('connectors:\n', CLIENTS) });
});
afterAll(async () => {
  await idp?.close();
});

async function expectError(response: Response | { status: number; body: Record<string, string> }, status: number, error: string) {
  const { status: got, body } = response instanceof Response ? { status: response.status, body: (await response.json()) as Record<string, string> } : response;
  expect({ status: got, error: body.error }).toEqual({ status, error });
  expect(body.error_description).toBeTypeOf('string');
  return body;
}

/** A request approved by the person, and its first poll's answer not yet asked. */
async function approvedCodes(form?: Record<string, string>) {
  const codes = await requestDeviceCodes(idp.url, form);
  const done = await actAsPerson(idp.url, codes.verification_uri_complete);
  expect(done.status).toBe(200);
  return codes;
}

describe('device authorization endpoint', () => {
  it('answers the codes, uncached, and stores only their hashes', async () => {
    const response = await postForm(`${idp.url}/device/code`, { ...EXAMPLE_CLIENT, scope: 'openid groups' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const codes = (await response.json()) as Record<string, unknown>;
    expect(codes).toEqual({
      device_code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_uri: `${idp.url}/device`,
      verification_uri_complete: `${idp.url}/device?user_code=${codes.user_code as string}`,
      expires_in: 300,
      interval: 5,
    });
    const record = await idp.storage.deviceRequests.get(hashToken(codes.device_code as string));
    expect(record).toMatchObject({ clientId: 'example-app', scopes: ['openid', 'groups'], status: 'pending', interval: 5 });
    const stored = JSON.stringify(await idp.storage.deviceRequests.list());
    expect(stored).not.toContain(codes.device_code);
    expect(stored).not.toContain((codes.user_code as string).replace('-', ''));
    const audit = idp.audit.events.filter((event) => event.event === 'device_authorization');
    expect(audit.at(-1)).toMatchObject({ outcome: 'succeeded', clientId: 'example-app', scope: 'openid groups' });
    expect(JSON.stringify(idp.audit.events)).not.toContain(codes.device_code);
  });

  it('lets a public client name itself, and asks for openid when no scope is given', async () => {
    const codes = await requestDeviceCodes(idp.url, { client_id: PUBLIC_APP.id });
    expect((await idp.storage.deviceRequests.get(hashToken(codes.device_code)))!.scopes).toEqual(['openid']);
  });

  it('authenticates a confidential client as the token endpoint does (invalid_client, 401)', async () => {
    await expectError(await postForm(`${idp.url}/device/code`, { client_id: 'example-app', client_secret: 'wrong' }), 401, 'invalid_client');
    await expectError(await postForm(`${idp.url}/device/code`, { client_id: 'example-app' }), 401, 'invalid_client');
    await expectError(await postForm(`${idp.url}/device/code`, { client_id: 'nobody' }), 401, 'invalid_client');
    expect(idp.audit.events.filter((e) => e.event === 'device_authorization' && e.outcome === 'refused').at(-1)).toMatchObject({ reason: 'invalid_client' });
  });

  it('refuses a client whose grantTypes lack the device grant (unauthorized_client)', async () => {
    const body = await expectError(await postForm(`${idp.url}/device/code`, { client_id: 'no-device', client_secret: 'bm8tZGV2aWNlLXNlY3JldA' }), 400, 'unauthorized_client');
    expect(body.error_description).toContain(DEVICE_GRANT);
  });

  it('refuses unknown scopes and scopes without openid (invalid_scope)', async () => {
    await expectError(await postForm(`${idp.url}/device/code`, { ...EXAMPLE_CLIENT, scope: 'openid admin' }), 400, 'invalid_scope');
    await expectError(await postForm(`${idp.url}/device/code`, { ...EXAMPLE_CLIENT, scope: 'email' }), 400, 'invalid_scope');
    await expectError(await postForm(`${idp.url}/device/code`, { ...EXAMPLE_CLIENT, scope: 'openid audience:server:client_id:public-app' }), 400, 'invalid_scope');
  });

  it('refuses PKCE plain (not allowed by default), a malformed challenge and a method alone (invalid_request)', async () => {
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    await expectError(await postForm(`${idp.url}/device/code`, { ...EXAMPLE_CLIENT, code_challenge: challenge }), 400, 'invalid_request');
    await expectError(await postForm(`${idp.url}/device/code`, { ...EXAMPLE_CLIENT, code_challenge: challenge, code_challenge_method: 'plain' }), 400, 'invalid_request');
    await expectError(await postForm(`${idp.url}/device/code`, { ...EXAMPLE_CLIENT, code_challenge: 'short', code_challenge_method: 'S256' }), 400, 'invalid_request');
    await expectError(await postForm(`${idp.url}/device/code`, { ...EXAMPLE_CLIENT, code_challenge_method: 'S256' }), 400, 'invalid_request');
  });
});

describe('device_code grant', () => {
  it('answers authorization_pending while the person has not answered, without an audit line per poll', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const before = idp.audit.events.length;
    await expectError(await poll(idp.url, codes.device_code), 400, 'authorization_pending');
    clock.advance(5_000);
    await expectError(await poll(idp.url, codes.device_code), 400, 'authorization_pending');
    expect(idp.audit.events.slice(before).filter((e) => e.event === 'token_refused')).toEqual([]);
  });

  it('answers slow_down to a poll sooner than the interval, which grows by 5 s for this and every later poll', async () => {
    const codes = await requestDeviceCodes(idp.url);
    await expectError(await poll(idp.url, codes.device_code), 400, 'authorization_pending');
    clock.advance(1_000);
    await expectError(await poll(idp.url, codes.device_code), 400, 'slow_down'); // interval 5 → 10
    clock.advance(5_000);
    await expectError(await poll(idp.url, codes.device_code), 400, 'slow_down'); // 5 s < 10: interval 15
    clock.advance(15_000);
    await expectError(await poll(idp.url, codes.device_code), 400, 'authorization_pending');
    expect((await idp.storage.deviceRequests.get(hashToken(codes.device_code)))!.interval).toBe(15);
    expect(idp.audit.events.filter((e) => e.event === 'token_refused').at(-1)).toMatchObject({ reason: 'slow_down', grant: DEVICE_GRANT });
  });

  it('issues the tokens once: the device code presented again is invalid_grant and revokes them', async () => {
    const codes = await approvedCodes();
    const first = await poll(idp.url, codes.device_code);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'Bearer', scope: 'openid email offline_access' });
    const issued = idp.audit.events.filter((e) => e.event === 'token_issued').at(-1)!;
    expect(issued).toMatchObject({ grant: DEVICE_GRANT, clientId: 'example-app', connectorId: 'local', refreshTokenIssued: true });
    expect(JSON.stringify(issued)).not.toContain(codes.device_code);
    const metric = await idp.issuer.context.metrics.tokensIssued.get();
    expect(metric.values.filter((v) => v.labels.grant === DEVICE_GRANT).map((v) => v.labels.type).sort()).toEqual(['access_token', 'id_token', 'refresh_token']);
    const sid = issued.sid as string;
    clock.advance(5_000);
    const again = await expectError(await poll(idp.url, codes.device_code), 400, 'invalid_grant');
    expect(again.error_description).toMatch(/already used/);
    expect(await idp.storage.revocations.get(`sid:${sid}`)).toBeDefined();
    await expectError(await postForm(`${idp.url}/token`, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token!, ...EXAMPLE_CLIENT }), 400, 'invalid_grant');
    expect(idp.audit.events.some((e) => e.event === 'session_revoked' && e.reason === 'device_code_reused' && e.sid === sid)).toBe(true);
  });

  it('gives the tokens to exactly one of two concurrent polls', async () => {
    const codes = await approvedCodes();
    const answers = await Promise.all([poll(idp.url, codes.device_code), poll(idp.url, codes.device_code)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
  });

  it('answers access_denied (400) once the person denied, on every later poll', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const done = await actAsPerson(idp.url, codes.verification_uri_complete, { deny: true });
    expect(done.html).toMatch(/Access denied/);
    await expectError(await poll(idp.url, codes.device_code), 400, 'access_denied');
    clock.advance(5_000);
    await expectError(await poll(idp.url, codes.device_code), 400, 'access_denied');
  });

  it('answers expired_token after expiry.deviceRequests, then forgets the code (invalid_grant)', async () => {
    const codes = await approvedCodes();
    clock.advance(5 * MINUTE);
    await expectError(await poll(idp.url, codes.device_code), 400, 'expired_token');
    clock.advance(5 * MINUTE);
    await expectError(await poll(idp.url, codes.device_code), 400, 'invalid_grant');
  });

  it('is bound to the client that asked: another client gets invalid_grant, and the right one still gets the tokens', async () => {
    const codes = await approvedCodes();
    const other = await expectError(await poll(idp.url, codes.device_code, { client_id: PUBLIC_APP.id }), 400, 'invalid_grant');
    expect(other.error_description).toMatch(/another client/);
    expect((await poll(idp.url, codes.device_code)).status).toBe(200);
  });

  it('authenticates the client (invalid_client) and refuses unknown or missing device codes', async () => {
    const codes = await requestDeviceCodes(idp.url);
    await expectError(await poll(idp.url, codes.device_code, { client_id: 'example-app', client_secret: 'wrong' }), 401, 'invalid_client');
    await expectError(await poll(idp.url, 'not-a-device-code'), 400, 'invalid_grant');
    await expectError(await postForm(`${idp.url}/token`, { grant_type: DEVICE_GRANT, ...EXAMPLE_CLIENT }), 400, 'invalid_request');
  });

  it('requires the PKCE verifier when the device asked with a challenge; a wrong one does not use the code up', async () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const codes = await approvedCodes({ ...EXAMPLE_CLIENT, code_challenge: challenge, code_challenge_method: 'S256' });
    await expectError(await poll(idp.url, codes.device_code), 400, 'invalid_grant');
    clock.advance(5_000);
    await expectError(await poll(idp.url, codes.device_code, { ...EXAMPLE_CLIENT, code_verifier: `${verifier.slice(0, -1)}A` }), 400, 'invalid_grant');
    clock.advance(5_000);
    expect((await poll(idp.url, codes.device_code, { ...EXAMPLE_CLIENT, code_verifier: verifier })).status).toBe(200);
  });

  it('refuses the tokens when the user\'s sessions were revoked after the approval', async () => {
    const codes = await approvedCodes();
    clock.advance(1_000);
    await revokeSubject(idp.issuer.context, { userId: ADMIN.userId, connectorId: 'local' }, 'revoked_by_admin');
    clock.advance(1_000);
    await expectError(await poll(idp.url, codes.device_code), 400, 'invalid_grant');
  });

  it('is served at Dex\'s /device/token too, for the device grant only', async () => {
    const codes = await approvedCodes();
    const other = await postForm(`${idp.url}/device/token`, { grant_type: 'refresh_token', refresh_token: 'x.y', ...EXAMPLE_CLIENT });
    await expectError(other, 400, 'unsupported_grant_type');
    expect((await poll(idp.url, codes.device_code, EXAMPLE_CLIENT, '/device/token')).status).toBe(200);
  });
});

describe('with the device grant not enabled (oauth2.grantTypes)', () => {
  let off: TestIssuer;
  beforeAll(async () => {
    off = await startTestIssuer({ configYaml: DEFAULT_TEST_CONFIG.replace('oauth2:\n', 'oauth2:\n  grantTypes: [authorization_code, refresh_token]\n') });
  });
  afterAll(async () => {
    await off?.close();
  });

  it('advertises no device endpoint, serves none of its paths, and refuses the grant at /token', async () => {
    const discovery = (await (await fetch(`${off.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.device_authorization_endpoint).toBeUndefined();
    expect(discovery.grant_types_supported).not.toContain(DEVICE_GRANT);
    expect((await postForm(`${off.url}/device/code`, EXAMPLE_CLIENT)).status).toBe(404);
    expect((await fetch(`${off.url}/device`)).status).toBe(404);
    await expectError(await poll(off.url, 'anything'), 400, 'unsupported_grant_type');
  });
});
