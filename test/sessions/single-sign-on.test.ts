/**
 * The browser's login session, end to end with two real relying parties (openid-client) in one cookie
 * jar: the second client signs in with at most its approval page, consent is remembered (and asked
 * again when the scopes grow), prompt=none answers both ways, max_age and prompt=login authenticate
 * again in the same session, id_token_hint must name the signed-in person, select_account offers the
 * session, allowedGroups refuses with a page, and a forged, expired or replaced session is no session.
 */
import { SignJWT, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/storage/secrets.js';
import { LoginPageError } from '../helpers/http-login.js';
import {
  ADMIN, ADMINS_APP, APP_ONE, APP_TWO, claimsOf, CookieJar, OPS_APP, OTHER_USER, pagesOf, redeem, signIn, startSessionsSuite, TRUSTED_APP,
  type SessionsIssuer, type SessionsSuite,
} from './harness.js';

let suite: SessionsSuite;
let idp: SessionsIssuer;
let one: client.Configuration;
let two: client.Configuration;
let jar: CookieJar;

beforeAll(async () => {
  suite = await startSessionsSuite();
  ({ idp, one, two } = suite);
});
afterAll(() => suite?.close());
beforeEach(async () => {
  jar = new CookieJar();
  // Consent is the person's and outlives a browser: each test starts with none.
  for (const consent of await idp.storage.consents.list()) await idp.storage.consents.delete(consent.id);
});

const sessionCookie = () => jar.get(idp.url, 'idgate_session');

describe('single sign-on', () => {
  it('signs the second client in without the password: one session, its id the sid of both, auth_time and amr of the one authentication', async () => {
    const first = await signIn(one, APP_ONE, jar, { user: ADMIN });
    expect(pagesOf(first)).toEqual(['password', 'approval']);
    const firstTokens = await redeem(one, first);

    const second = await signIn(two, APP_TWO, jar);
    expect(pagesOf(second)).toEqual(['approval']);
    const secondTokens = await redeem(two, second);

    const [a, b] = [firstTokens.claims()!, secondTokens.claims()!];
    expect(b.sub).toBe(a.sub);
    expect(b.sid).toBe(a.sid);
    expect(b.auth_time).toBe(a.auth_time);
    expect([a.amr, b.amr]).toEqual([['pwd'], ['pwd']]);
    expect(claimsOf(secondTokens.access_token).sid).toBe(a.sid);
    // The sid is the session's id: the hash of the cookie, which itself is stored nowhere.
    expect(a.sid).toBe(hashToken(sessionCookie()!));
    const session = await idp.storage.loginSessions.get(a.sid as string);
    expect(session!.clients.map((entry) => entry.clientId)).toEqual([APP_ONE.id, APP_TWO.id]);
    expect(JSON.stringify(session)).not.toContain(sessionCookie()!);
    expect(idp.audit.events.filter((event) => event.event === 'session_used').at(-1)).toMatchObject({ clientId: APP_TWO.id, sid: a.sid });
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, on the issuer path, for the browser session only (no Max-Age)', async () => {
    expect(await loginSetCookie()).toMatch(/^idgate_session=[A-Za-z0-9_-]{43}; Path=\/dex; HttpOnly; SameSite=Lax$/);
  });

  it('ends the session everywhere when one of its codes is presented twice: the other client is refused too', async () => {
    const first = await redeem(one, await signIn(one, APP_ONE, jar, { user: ADMIN }));
    const replayed = await signIn(two, APP_TWO, jar);
    const second = await redeem(two, replayed);
    await expect(redeem(two, replayed)).rejects.toMatchObject({ error: 'invalid_grant' });
    for (const [party, tokens] of [[one, first], [two, second]] as const) {
      await expect(client.fetchUserInfo(party, tokens.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    }
    expect((await signIn(one, APP_ONE, jar, { params: { prompt: 'none' } })).landed.searchParams.get('error')).toBe('login_required');
    expect(idp.audit.events.find((event) => event.event === 'session_ended' && event.sid === first.claims()!.sid)).toMatchObject({ reason: 'code_reused' });
  });

  it('gives each client its own refresh-token family in the session', async () => {
    const first = await redeem(one, await signIn(one, APP_ONE, jar, { user: ADMIN, params: { scope: 'openid email offline_access' } }));
    const second = await redeem(two, await signIn(two, APP_TWO, jar, { params: { scope: 'openid email offline_access' } }));
    const [familyOne, familyTwo] = [first.refresh_token!.split('.')[0]!, second.refresh_token!.split('.')[0]!];
    expect(familyOne).not.toBe(familyTwo);
    const sid = first.claims()!.sid as string;
    for (const family of [familyOne, familyTwo]) expect(await idp.storage.refreshTokens.get(family)).toMatchObject({ sessionId: sid, amr: ['pwd'] });
    // A refreshed ID token keeps the session's sid, auth_time and amr.
    const refreshed = await client.refreshTokenGrant(two, second.refresh_token!);
    expect(refreshed.claims()).toMatchObject({ sid, auth_time: first.claims()!.auth_time, amr: ['pwd'] });
  });
});

/** The Set-Cookie of the session a fresh browser's password login starts. */
async function loginSetCookie(): Promise<string | undefined> {
  const fresh = new CookieJar();
  const party = await idp.relyingParty(TRUSTED_APP);
  const url = client.buildAuthorizationUrl(party, { redirect_uri: TRUSTED_APP.redirectURI, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  let next = url.toString();
  for (let step = 0; step < 5; step++) {
    const response = await fetch(next, { redirect: 'manual', headers: { cookie: fresh.header(next) ?? '' } });
    fresh.store(next, response);
    if (response.status !== 200) {
      next = new URL(response.headers.get('location')!, next).toString();
      continue;
    }
    const html = await response.text();
    const fields = Object.fromEntries([...html.matchAll(/name="(req|csrf_token)" value="([^"]+)"/g)].map((m) => [m[1]!, m[2]!]));
    const posted = await fetch(next.split('?')[0]!, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: fresh.header(next) ?? '' },
      body: new URLSearchParams({ ...fields, login: ADMIN.email, password: ADMIN.password }),
    });
    return posted.headers.getSetCookie().find((line) => line.startsWith('idgate_session='));
  }
  return undefined;
}

describe('remembered consent', () => {
  it('is not asked again for the same scopes, is asked again when they grow, and prompt=consent asks anyway', async () => {
    expect(pagesOf(await signIn(one, APP_ONE, jar, { user: ADMIN }))).toEqual(['password', 'approval']);
    expect(pagesOf(await signIn(one, APP_ONE, jar))).toEqual([]);
    const wider = await signIn(one, APP_ONE, jar, { params: { scope: 'openid email groups' } });
    expect(pagesOf(wider)).toEqual(['approval']);
    expect((await redeem(one, wider)).claims()!.groups).toEqual(['admins', 'developers']);
    expect(pagesOf(await signIn(one, APP_ONE, jar, { params: { scope: 'openid groups' } }))).toEqual([]);
    expect(pagesOf(await signIn(one, APP_ONE, jar, { params: { prompt: 'consent' } }))).toEqual(['approval']);
    // It is the person's, not the browser's: another browser signing in is not asked either.
    expect(pagesOf(await signIn(one, APP_ONE, new CookieJar(), { user: ADMIN }))).toEqual(['password']);
  });

  it("skips the approval page for a client with skipApprovalScreen: true, whatever oauth2's", async () => {
    expect(pagesOf(await signIn(await idp.relyingParty(TRUSTED_APP), TRUSTED_APP, jar, { user: OTHER_USER }))).toEqual(['password']);
  });
});

describe('prompt=none', () => {
  it('answers login_required (state and iss kept) when the browser has no session', async () => {
    const { landed, state } = await signIn(one, APP_ONE, jar, { params: { prompt: 'none' } });
    expect(Object.fromEntries(landed.searchParams)).toMatchObject({ error: 'login_required', state, iss: idp.url });
  });

  it('issues a code at once when the session and the consent are there', async () => {
    await redeem(one, await signIn(one, APP_ONE, jar, { user: ADMIN }));
    const silent = await signIn(one, APP_ONE, jar, { params: { prompt: 'none' } });
    expect(silent.visited).toHaveLength(1);
    expect((await redeem(one, silent)).claims()).toMatchObject({ email: ADMIN.email });
  });

  it('answers consent_required when the person has not approved the client, and interaction never happens', async () => {
    await signIn(one, APP_ONE, jar, { user: ADMIN });
    const { landed } = await signIn(two, APP_TWO, jar, { params: { prompt: 'none', scope: 'openid email profile' } });
    expect(landed.searchParams.get('error')).toBe('consent_required');
  });

  it('answers login_required when max_age has passed, and a new authentication keeps the session and its sid', async () => {
    const first = await redeem(one, await signIn(one, APP_ONE, jar, { user: ADMIN }));
    idp.advance(120_000);
    expect((await signIn(one, APP_ONE, jar, { params: { prompt: 'none', max_age: '60' } })).landed.searchParams.get('error')).toBe('login_required');
    const again = await signIn(one, APP_ONE, jar, { user: ADMIN, params: { max_age: '60' } });
    expect(pagesOf(again)).toEqual(['password']);
    const claims = (await redeem(one, again)).claims()!;
    expect(claims.sid).toBe(first.claims()!.sid);
    expect(claims.auth_time).toBeGreaterThanOrEqual((first.claims()!.auth_time as number) + 120);
    expect((await signIn(one, APP_ONE, jar, { params: { prompt: 'none', max_age: '60' } })).landed.searchParams.get('code')).toBeTruthy();
  });
});

describe('prompt=login', () => {
  it('asks for the password again (login_hint pre-filled) and keeps the session for the same person', async () => {
    const first = await redeem(one, await signIn(one, APP_ONE, jar, { user: ADMIN }));
    const again = await signIn(one, APP_ONE, jar, { user: ADMIN, params: { prompt: 'login', login_hint: 'hint@example.com' } });
    expect(pagesOf(again)).toEqual(['password']);
    expect((await redeem(one, again)).claims()!.sid).toBe(first.claims()!.sid);
    // The form it showed had the hint in the username field.
    const url = client.buildAuthorizationUrl(one, { redirect_uri: APP_ONE.redirectURI, scope: 'openid', prompt: 'login', login_hint: 'hint@example.com', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    let page = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url)! } });
    for (let step = 0; step < 3 && page.status === 302; step++) {
      const next = new URL(page.headers.get('location')!, idp.url);
      page = await fetch(next, { redirect: 'manual', headers: { cookie: jar.header(next)! } });
    }
    expect(await page.text()).toContain('value="hint@example.com"');
  });

  it('ends the session of someone else when another person signs in in the same browser', async () => {
    const first = await redeem(one, await signIn(one, APP_ONE, jar, { user: ADMIN }));
    const other = await redeem(one, await signIn(one, APP_ONE, jar, { user: OTHER_USER, params: { prompt: 'login' } }));
    expect(other.claims()!.sid).not.toBe(first.claims()!.sid);
    await expect(client.fetchUserInfo(one, first.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    expect(await client.fetchUserInfo(one, other.access_token, client.skipSubjectCheck)).toMatchObject({ email: OTHER_USER.email });
    expect(idp.audit.events.find((event) => event.event === 'session_ended' && event.sid === first.claims()!.sid)).toMatchObject({ reason: 'replaced' });
  });
});

describe('id_token_hint', () => {
  it('answers prompt=none for the person it names, even expired; login_required for someone else', async () => {
    const admin = await redeem(one, await signIn(one, APP_ONE, jar, { user: ADMIN }));
    const otherJar = new CookieJar();
    const other = await redeem(one, await signIn(one, APP_ONE, otherJar, { user: OTHER_USER }));
    idp.advance(6 * 60_000); // past expiry.idTokens (5m), within the session's idle timeout (10m)
    const own = await signIn(one, APP_ONE, jar, { params: { prompt: 'none', id_token_hint: admin.id_token! } });
    expect(own.landed.searchParams.get('code')).toBeTruthy();
    const mismatch = await signIn(one, APP_ONE, jar, { params: { prompt: 'none', id_token_hint: other.id_token! } });
    expect(mismatch.landed.searchParams.get('error')).toBe('login_required');
    // Without prompt=none the session of someone else is not used: the password is asked.
    expect(pagesOf(await signIn(one, APP_ONE, jar, { user: OTHER_USER, params: { id_token_hint: other.id_token! } }))).toEqual(['password']);
  });

  it("refuses another issuer's ID token with invalid_request", async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ sub: 'someone', aud: APP_ONE.id }).setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer('https://elsewhere.example').setIssuedAt().setExpirationTime('5m').sign(privateKey);
    const refused = await signIn(one, APP_ONE, jar, { params: { id_token_hint: foreign } });
    expect(refused.landed.searchParams.get('error')).toBe('invalid_request');
    expect(refused.landed.searchParams.get('error_description')).toMatch(/id_token_hint/);
  });
});

describe('prompt=select_account', () => {
  it('offers "Continue as" the signed-in person beside the connectors, which continues without the password', async () => {
    await signIn(one, APP_ONE, jar, { user: ADMIN });
    const url = client.buildAuthorizationUrl(one, { redirect_uri: APP_ONE.redirectURI, scope: 'openid email', prompt: 'select_account', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const chooser = await fetch(url, { headers: { cookie: jar.header(url)! } });
    jar.store(url, chooser);
    const html = await chooser.text();
    expect(html).toContain(`Continue as ${ADMIN.email}`);
    expect(html).toContain('Continue with Email');
    const href = /href="([^"]*session=continue)"/.exec(html)![1]!.replaceAll('&amp;', '&');
    // Another browser cannot take the offer.
    const stolen = await fetch(new URL(href, idp.url), { redirect: 'manual' });
    expect(stolen.status).toBe(403);
    const go = await fetch(new URL(href, idp.url), { redirect: 'manual', headers: { cookie: jar.header(idp.url)! } });
    expect(new URL(go.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});

describe('allowedGroups', () => {
  it('admits a person in one of the groups, and refuses the others with the page (prompt=none: access_denied)', async () => {
    expect((await signIn(await idp.relyingParty(ADMINS_APP), ADMINS_APP, jar, { user: ADMIN })).landed.searchParams.get('code')).toBeTruthy();
    const ops = await idp.relyingParty(OPS_APP);
    const refused = await signIn(ops, OPS_APP, jar).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LoginPageError);
    expect((refused as LoginPageError).status).toBe(403);
    expect((refused as LoginPageError).html).toContain('You are not in a group allowed to use this application.');
    expect((await signIn(ops, OPS_APP, jar, { params: { prompt: 'none' } })).landed.searchParams.get('error')).toBe('access_denied');
  });
});

describe('a session cookie that names no session', () => {
  it('is no session when forged, and is cleared', async () => {
    jar.store(idp.url, new Response(null, { headers: { 'set-cookie': `idgate_session=${'A'.repeat(43)}; Path=/dex` } }));
    const url = client.buildAuthorizationUrl(one, { redirect_uri: APP_ONE.redirectURI, scope: 'openid', prompt: 'none', state: 's1', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url)! } });
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('login_required');
    expect(response.headers.getSetCookie()).toContain('idgate_session=; Max-Age=0; Path=/dex; HttpOnly; SameSite=Lax');
  });

  it('is no session once the idle timeout passed, nor once the absolute lifetime did', async () => {
    await signIn(one, APP_ONE, jar, { user: ADMIN });
    idp.advance(11 * 60_000);
    expect((await signIn(one, APP_ONE, jar, { params: { prompt: 'none' } })).landed.searchParams.get('error')).toBe('login_required');
    await signIn(one, APP_ONE, jar, { user: ADMIN });
    for (let i = 0; i < 7; i++) {
      idp.advance(9 * 60_000); // each use restarts the idle timer; the hour from the start still ends it
      const answer = (await signIn(one, APP_ONE, jar, { params: { prompt: 'none' } })).landed.searchParams;
      expect([i, answer.has('code'), answer.get('error')]).toEqual(i < 6 ? [i, true, null] : [i, false, 'login_required']);
    }
  });
});
