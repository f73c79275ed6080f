/**
 * Logout, end to end: OpenID RP-Initiated Logout 1.0 driven by openid-client's buildEndSessionUrl (the
 * hint's own session ends at once; without a hint, or with another session's, a CSRF-bound
 * confirmation first; post_logout_redirect_uri exact and registered, state back), and OpenID
 * Back-Channel Logout 1.0: the logout tokens a test endpoint receives, verified with jose against the
 * issuer's keys; retries of an endpoint that fails, without the logout page waiting for it; and the
 * session's tokens and refresh tokens refused afterwards. `idgate sessions end` does the same from the
 * command line, on storage shared with the running issuer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runSessionsCommand } from '../../src/admin/sessions.js';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../src/sessions/backchannel.js';
import { openStorage } from '../../src/storage/open.js';
import type { AuditEvent } from '../../src/telemetry/audit.js';
import { freePort } from '../helpers/free-port.js';
import { parseForms } from '../helpers/http-login.js';
import { startTestIssuer } from '../helpers/issuer.js';
import { until } from '../helpers/until.js';
import {
  ADMIN, APP_ONE, APP_TWO, CookieJar, FAST_RETRIES, OTHER_USER, redeem, sessionsConfig, signIn, startSessionsIssuer, startSessionsSuite,
  type BackchannelReceiver, type SessionsIssuer, type SessionsSuite,
} from './harness.js';

let suite: SessionsSuite;
let receiver: BackchannelReceiver;
let idp: SessionsIssuer;
let one: client.Configuration;
let two: client.Configuration;
let jar: CookieJar;

beforeAll(async () => {
  suite = await startSessionsSuite();
  ({ receiver, idp, one, two } = suite);
});
afterAll(() => suite?.close());
beforeEach(() => {
  jar = new CookieJar();
  receiver.received.length = 0;
  receiver.answer = () => 200;
});
afterEach(() => receiver.release());

/** Both apps signed in in `jar`: one authentication, two clients, two refresh-token families. */
async function signInBoth() {
  const params = { scope: 'openid email offline_access' };
  const first = await redeem(one, await signIn(one, APP_ONE, jar, { user: ADMIN, params }));
  const second = await redeem(two, await signIn(two, APP_TWO, jar, { params }));
  return { first, second, sid: first.claims()!.sid as string };
}

async function get(url: string | URL, browser = jar): Promise<Response> {
  const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html', ...(browser.header(url) ? { cookie: browser.header(url)! } : {}) } });
  browser.store(url, response);
  return response;
}

async function post(url: string | URL, fields: Record<string, string>, browser = jar): Promise<Response> {
  const cookie = browser.header(url);
  const response = await fetch(url, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields),
  });
  browser.store(url, response);
  return response;
}

const audited = (type: string, sid: string): AuditEvent | undefined => idp.audit.events.find((event) => event.event === type && event.sid === sid);

async function notified(sid: string): Promise<AuditEvent> {
  await until(async () => audited('logout_notified', sid) !== undefined, true);
  return audited('logout_notified', sid)!;
}

/** The session's tokens and refresh tokens are refused, at /userinfo and /token. */
async function expectSignedOutEverywhere(tokens: Awaited<ReturnType<typeof signInBoth>>) {
  for (const [party, set] of [[one, tokens.first], [two, tokens.second]] as const) {
    await expect(client.fetchUserInfo(party, set.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    await expect(client.refreshTokenGrant(party, set.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  }
  expect(await idp.storage.revocations.get(`sid:${tokens.sid}`)).toMatchObject({ kind: 'sid', value: tokens.sid, userId: ADMIN.userId });
  expect(await idp.storage.loginSessions.get(tokens.sid)).toBeUndefined();
}

describe('discovery', () => {
  it('advertises the end_session_endpoint and back-channel logout with sid', () => {
    expect(one.serverMetadata()).toMatchObject({
      end_session_endpoint: `${idp.url}/logout`, backchannel_logout_supported: true, backchannel_logout_session_supported: true,
    });
  });
});

describe('RP-initiated logout', () => {
  it('ends the session its id_token_hint names at once, back to the registered URI with state, and revokes its tokens everywhere', async () => {
    const tokens = await signInBoth();
    const url = client.buildEndSessionUrl(one, { id_token_hint: tokens.first.id_token!, post_logout_redirect_uri: APP_ONE.postLogoutRedirectURI, state: 'bye-1' });
    const response = await get(url);
    expect(response.status).toBe(302);
    const back = new URL(response.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(APP_ONE.postLogoutRedirectURI);
    expect(back.searchParams.get('state')).toBe('bye-1');
    expect(response.headers.getSetCookie()).toContain('idgate_session=; Max-Age=0; Path=/dex; HttpOnly; SameSite=Lax');
    await expectSignedOutEverywhere(tokens);
    // The browser has no session any more: the next sign-in asks for the password.
    expect((await signIn(one, APP_ONE, jar, { params: { prompt: 'none' } })).landed.searchParams.get('error')).toBe('login_required');
    expect(audited('logout', tokens.sid)).toMatchObject({ outcome: 'succeeded', clientId: APP_ONE.id, confirmed: false, clientsTold: [APP_ONE.id, APP_TWO.id], returnsToClient: true });
    expect(audited('session_ended', tokens.sid)).toMatchObject({ reason: 'logout', refreshTokensRevoked: 2, clients: [APP_ONE.id, APP_TWO.id] });
  });

  it('asks first without a hint: a confirmation whose form is bound to the session cookie (CSRF)', async () => {
    const tokens = await signInBoth();
    const page = await get(`${idp.url}/logout?client_id=${APP_TWO.id}&post_logout_redirect_uri=${encodeURIComponent(APP_TWO.postLogoutRedirectURI)}&state=s2`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Sign out?');
    expect(html).toContain('App Two asks to sign you out.');
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self' http://127.0.0.1:5555;");
    expect(await idp.storage.loginSessions.get(tokens.sid)).toBeDefined();
    const form = parseForms(html)[0]!;
    expect(form.fields).toMatchObject({ client_id: APP_TWO.id, post_logout_redirect_uri: APP_TWO.postLogoutRedirectURI, state: 's2' });

    // A form posted from elsewhere: without the token, the question again; with a wrong one, refused.
    expect((await post(`${idp.url}/logout`, { ...form.fields, csrf_token: '' })).status).toBe(403);
    expect((await post(`${idp.url}/logout`, { ...form.fields, csrf_token: 'A'.repeat(43) })).status).toBe(403);
    const { csrf_token: _token, ...withoutToken } = form.fields;
    expect((await post(`${idp.url}/logout`, withoutToken)).status).toBe(200);
    expect(await idp.storage.loginSessions.get(tokens.sid)).toBeDefined();

    const confirmed = await post(`${idp.url}/logout`, { ...form.fields, confirm: 'yes' });
    expect(confirmed.status).toBe(303);
    expect(new URL(confirmed.headers.get('location')!).searchParams.get('state')).toBe('s2');
    await expectSignedOutEverywhere(tokens);
    expect(audited('logout', tokens.sid)).toMatchObject({ clientId: APP_TWO.id, confirmed: true });
  });

  it("asks first when the hint is another session's, and ends the browser's own", async () => {
    const otherBrowser = new CookieJar();
    const others = await redeem(one, await signIn(one, APP_ONE, otherBrowser, { user: OTHER_USER }));
    const tokens = await signInBoth();
    const page = await get(client.buildEndSessionUrl(one, { id_token_hint: others.id_token! }));
    expect(await page.text()).toContain('Sign out?');
    const form = parseForms(await (await get(client.buildEndSessionUrl(one, { id_token_hint: others.id_token! }))).text())[0]!;
    const done = await post(`${idp.url}/logout`, { ...form.fields, confirm: 'yes' });
    expect(await done.text()).toContain('You are signed out');
    await expectSignedOutEverywhere(tokens);
    expect(await idp.storage.loginSessions.get(others.claims()!.sid as string)).toBeDefined();
  });

  it('shows a page, never a redirect, for an unregistered post_logout_redirect_uri, one without a client, or a hint not ours', async () => {
    const tokens = await signInBoth();
    const refusals = [
      client.buildEndSessionUrl(one, { id_token_hint: tokens.first.id_token!, post_logout_redirect_uri: 'https://evil.example/after' }),
      client.buildEndSessionUrl(one, { id_token_hint: tokens.first.id_token!, post_logout_redirect_uri: `${APP_ONE.postLogoutRedirectURI}/more` }),
      // app-two's URI with app-one's hint: registered, but for another client.
      client.buildEndSessionUrl(one, { id_token_hint: tokens.first.id_token!, post_logout_redirect_uri: APP_TWO.postLogoutRedirectURI }),
      new URL(`${idp.url}/logout?post_logout_redirect_uri=${encodeURIComponent(APP_ONE.postLogoutRedirectURI)}`),
      client.buildEndSessionUrl(one, { id_token_hint: `${tokens.first.id_token!.slice(0, -4)}AAAA` }),
      client.buildEndSessionUrl(one, { id_token_hint: tokens.first.id_token!, client_id: APP_TWO.id }),
    ];
    for (const url of refusals) {
      const response = await get(url);
      expect(response.status, url.toString()).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('Invalid sign-out request');
    }
    expect(await idp.storage.loginSessions.get(tokens.sid)).toBeDefined();
  });

  it('answers a cross-site POST (no SameSite=Lax cookie on it) with a 303 to the same request as a GET', async () => {
    const tokens = await signInBoth();
    const fields = { id_token_hint: tokens.second.id_token!, post_logout_redirect_uri: APP_TWO.postLogoutRedirectURI, state: 's3' };
    const crossSite = await post(`${idp.url}/logout`, fields, new CookieJar());
    expect(crossSite.status).toBe(303);
    const done = await get(new URL(crossSite.headers.get('location')!, idp.url));
    expect(new URL(done.headers.get('location')!).searchParams.get('state')).toBe('s3');
    await expectSignedOutEverywhere(tokens);
  });

  it('still sends the browser back when it had no session to end', async () => {
    const { first } = await signInBoth();
    const url = client.buildEndSessionUrl(one, { id_token_hint: first.id_token!, post_logout_redirect_uri: APP_ONE.postLogoutRedirectURI, state: 's4' });
    const fresh = new CookieJar();
    const response = await get(url, fresh);
    expect(new URL(response.headers.get('location')!).searchParams.get('state')).toBe('s4');
    expect(await (await get(`${idp.url}/logout`, fresh)).text()).toContain('You are not signed in');
  });
});

describe('back-channel logout', () => {
  const keys = () => createRemoteJWKSet(new URL(`${idp.url}/keys`));

  it('POSTs each client a logout token: typ logout+jwt, iss, aud, iat, jti, events, sub, sid when asked, never a nonce', async () => {
    const tokens = await signInBoth();
    await get(client.buildEndSessionUrl(one, { id_token_hint: tokens.first.id_token! }));
    const report = await notified(tokens.sid);
    expect(report).toMatchObject({ outcome: 'succeeded', clients: [
      { clientId: APP_ONE.id, outcome: 'delivered', attempts: 1, status: 200 },
      { clientId: APP_TWO.id, outcome: 'delivered', attempts: 1, status: 200 },
    ] });
    const byPath = Object.fromEntries(receiver.received.map((entry) => [entry.path, entry]));
    for (const [pathName, app, withSid] of [['/one', APP_ONE, true], ['/two', APP_TWO, false]] as const) {
      const entry = byPath[pathName]!;
      expect(entry.contentType).toBe('application/x-www-form-urlencoded');
      const token = entry.body.get('logout_token')!;
      expect(decodeProtectedHeader(token).typ).toBe('logout+jwt');
      const { payload } = await jwtVerify(token, keys(), { issuer: idp.url, audience: app.id, typ: 'logout+jwt', currentDate: new Date(idp.clock()) });
      expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
      expect(payload.sub).toBe(tokens.first.claims()!.sub);
      expect(typeof payload.jti).toBe('string');
      expect(payload.iat).toBe(Math.floor(idp.clock() / 1000));
      expect(payload.exp! - payload.iat!).toBe(120);
      expect(payload).not.toHaveProperty('nonce');
      if (withSid) expect(payload.sid).toBe(tokens.sid);
      else expect(payload).not.toHaveProperty('sid');
    }
  });

  it('retries a client that hangs and then fails, while the logout page has answered already', async () => {
    // app-one: the first POST never answers (the attempt times out), the second gets 503, the third 200.
    receiver.answer = (pathName, attempt) => (pathName !== '/one' ? 200 : attempt === 1 ? 'hang' : attempt === 2 ? 503 : 200);
    const tokens = await signInBoth();
    const response = await get(client.buildEndSessionUrl(one, { id_token_hint: tokens.first.id_token!, post_logout_redirect_uri: APP_ONE.postLogoutRedirectURI }));
    expect(response.status).toBe(302);
    // The page answered while app-one's first delivery is still hanging: nothing was reported yet.
    await until(async () => receiver.received.some((entry) => entry.path === '/one'), true);
    expect(audited('logout_notified', tokens.sid)).toBeUndefined();
    const report = await notified(tokens.sid);
    expect(report.clients).toEqual([
      { clientId: APP_ONE.id, outcome: 'delivered', attempts: 3, status: 200 },
      { clientId: APP_TWO.id, outcome: 'delivered', attempts: 1, status: 200 },
    ]);
    expect(receiver.received.filter((entry) => entry.path === '/one')).toHaveLength(3);
  });

  it('gives up on a client that refuses the token (4xx) without retrying, and reports it', async () => {
    receiver.answer = (pathName) => (pathName === '/two' ? 400 : 200);
    const tokens = await signInBoth();
    await get(client.buildEndSessionUrl(two, { id_token_hint: tokens.second.id_token! }));
    const report = await notified(tokens.sid);
    expect(report).toMatchObject({ outcome: 'refused', clients: [{ clientId: APP_ONE.id, outcome: 'delivered' }, { clientId: APP_TWO.id, outcome: 'refused', attempts: 1, status: 400 }] });
  });
});

describe('an unreachable back-channel endpoint', () => {
  it('is tried every time the policy allows, reported failed, and the logout is done regardless', async () => {
    const downReceiver = `http://127.0.0.1:${await freePort()}`;
    const down = await startSessionsIssuer(downReceiver);
    try {
      const party = await down.relyingParty(APP_ONE);
      const browser = new CookieJar();
      const tokens = await redeem(party, await signIn(party, APP_ONE, browser, { user: ADMIN }));
      const sid = tokens.claims()!.sid as string;
      const url = client.buildEndSessionUrl(party, { id_token_hint: tokens.id_token! });
      const response = await fetch(url, { headers: { cookie: browser.header(url)! } });
      expect(await response.text()).toContain('You are signed out');
      expect(await down.storage.revocations.get(`sid:${sid}`)).toBeDefined();
      await until(async () => down.audit.events.some((event) => event.event === 'logout_notified'), true);
      expect(down.audit.events.find((event) => event.event === 'logout_notified')).toMatchObject({
        outcome: 'refused', clients: [{ clientId: APP_ONE.id, outcome: 'failed', attempts: FAST_RETRIES.retryDelaysMs.length + 1, reason: 'unreachable' }],
      });
    } finally {
      await down.close();
    }
  });
});

describe('idgate sessions end', () => {
  it('ends a browser session from the command line: tokens refused, clients told, their answers printed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'idgate-logout-'));
    const file = path.join(dir, 'idgate.db');
    const storage = await openStorage({ type: 'sqlite3', config: { file } });
    const issuer = await startTestIssuer({ configYaml: sessionsConfig(receiver.url), storage, backchannelPolicy: FAST_RETRIES });
    try {
      const party = await client.discovery(new URL(issuer.url), APP_ONE.id, undefined, client.ClientSecretBasic(APP_ONE.secret), { execute: [client.allowInsecureRequests] });
      const browser = new CookieJar();
      const tokens = await redeem(party, await signIn(party, APP_ONE, browser, { user: ADMIN, params: { scope: 'openid email offline_access' } }));
      const sid = tokens.claims()!.sid as string;
      const configFile = path.join(dir, 'idgate.yaml');
      await writeFile(configFile, `issuer: ${issuer.url}\n${sessionsConfig(receiver.url).replace('storage: { type: memory }', `storage: { type: sqlite3, config: { file: "${file}" } }`)}`);
      const out = { stdout: '', stderr: '' };
      const io = { stdout: (text: string) => void (out.stdout += text), stderr: (text: string) => void (out.stderr += text) };

      expect(await runSessionsCommand(['list', '--config', configFile, '--user', ADMIN.userId], io), out.stderr).toBe(0);
      expect(out.stdout).toMatch(new RegExp(`^browser\\t${sid}\\tlocal\\tsigned in .*\\tclients ${APP_ONE.id}$`, 'm'));
      expect(await runSessionsCommand(['end', '--config', configFile, '--session', sid], io)).toBe(0);
      expect(out.stdout).toContain(`ended browser session ${sid} (1 refresh token(s) revoked)\n  ${APP_ONE.id}: delivered (HTTP 200)\n`);
      expect(JSON.parse(out.stderr.trim().split('\n').find((line) => line.includes('"session_ended"'))!)).toMatchObject({ reason: 'revoked_by_admin', sid, origin: 'sessions-cli' });
      const received = receiver.received.find((entry) => entry.path === '/one')!;
      const { payload } = await jwtVerify(received.body.get('logout_token')!, createRemoteJWKSet(new URL(`${issuer.url}/keys`)), { issuer: issuer.url, audience: APP_ONE.id, typ: 'logout+jwt' });
      expect(payload.sid).toBe(sid);

      await expect(client.fetchUserInfo(party, tokens.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
      await expect(client.refreshTokenGrant(party, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      const again = await signIn(party, APP_ONE, browser, { params: { prompt: 'none' } });
      expect(again.landed.searchParams.get('error')).toBe('login_required');

      expect(await runSessionsCommand(['end', '--config', configFile, '--session', sid], io)).toBe(1);
      expect(out.stderr).toContain(`no browser session "${sid}"`);
    } finally {
      await issuer.close();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
