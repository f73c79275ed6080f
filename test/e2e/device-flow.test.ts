/**
 * The device authorization grant (RFC 8628) end to end: openid-client v6 asks for the codes and polls
 * (initiateDeviceAuthorization, pollDeviceAuthorizationGrant) while the test is the person at the
 * browser, going through the real pages (code form, login, approval) over HTTP.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actAsPerson } from '../helpers/device.js';
import { ADMIN, DEFAULT_TEST_CONFIG, EXAMPLE_APP, PUBLIC_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

let idp: TestIssuer;

beforeAll(async () => {
  idp = await startTestIssuer({ configYaml: DEFAULT_TEST_CONFIG.replace('oauth2:\n', 'oauth2:\n  devicePollingInterval: 1s\n') });
});
afterAll(async () => {
  await idp?.close();
});

async function relyingParty(kind: 'confidential' | 'public' = 'confidential') {
  const auth = kind === 'public' ? client.None() : client.ClientSecretBasic(EXAMPLE_APP.secret);
  const config = await client.discovery(new URL(idp.url), kind === 'public' ? PUBLIC_APP.id : EXAMPLE_APP.id, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(config);
  return config;
}

describe('device authorization grant with openid-client', () => {
  it('advertises the device authorization endpoint and grant in discovery', async () => {
    const metadata = (await relyingParty()).serverMetadata();
    expect(metadata.device_authorization_endpoint).toBe(`${idp.url}/device/code`);
    expect(metadata.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:device_code');
  });

  it('issues ID, access and refresh tokens once the person approved', async () => {
    const config = await relyingParty();
    const device = await client.initiateDeviceAuthorization(config, { scope: 'openid email groups offline_access' });
    expect(device.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(device.verification_uri).toBe(`${idp.url}/device`);
    expect(device.verification_uri_complete).toBe(`${idp.url}/device?user_code=${device.user_code}`);
    expect(device.expires_in).toBe(300);
    expect(device.interval).toBe(1);

    const done = await actAsPerson(idp.url, device.verification_uri_complete!);
    expect(done.status).toBe(200);
    expect(done.html).toMatch(/return to your device/);

    const tokens = await client.pollDeviceAuthorizationGrant(config, device);
    expect(tokens.claims()).toMatchObject({ iss: idp.url, aud: EXAMPLE_APP.id, email: ADMIN.email, groups: ['admins', 'developers'] });
    expect(tokens.refresh_token).toBeTypeOf('string');
    const jwks = createRemoteJWKSet(new URL(`${idp.url}/keys`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: idp.url, typ: 'at+jwt' });
    expect(payload).toMatchObject({ client_id: EXAMPLE_APP.id, scope: 'openid email groups offline_access' });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(tokens.claims()!.sub);
  });

  it('keeps a public client with PKCE polling through authorization_pending until the person approves', async () => {
    const config = await relyingParty('public');
    const verifier = client.randomPKCECodeVerifier();
    const device = await client.initiateDeviceAuthorization(config, {
      scope: 'openid profile', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const answers: string[] = [];
    let approval: ReturnType<typeof actAsPerson> | undefined;
    config[client.customFetch] = async (url, options) => {
      const response = await fetch(url, options as RequestInit);
      if (url.endsWith('/token')) {
        answers.push(String(response.status));
        // The person gets to the browser only after the device's first poll.
        approval ??= actAsPerson(idp.url, device.verification_uri_complete!);
      }
      return response;
    };
    const tokens = await client.pollDeviceAuthorizationGrant(config, device, { code_verifier: verifier });
    expect((await approval!).status).toBe(200);
    expect(answers[0]).toBe('400');
    expect(answers.at(-1)).toBe('200');
    expect(tokens.claims()).toMatchObject({ aud: PUBLIC_APP.id, name: 'admin' });
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('hands the person\'s denial to the client as access_denied', async () => {
    const config = await relyingParty();
    const device = await client.initiateDeviceAuthorization(config, { scope: 'openid' });
    await actAsPerson(idp.url, device.verification_uri_complete!, { deny: true });
    const refused = await client.pollDeviceAuthorizationGrant(config, device).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(client.ResponseBodyError);
    expect((refused as client.ResponseBodyError).error).toBe('access_denied');
  });

  it('makes a client that polled too soon (a retried request) back off by 5 s, and then gives it the tokens', async () => {
    const config = await relyingParty();
    const device = await client.initiateDeviceAuthorization(config, { scope: 'openid' });
    const answers: string[] = [];
    let retried = false;
    config[client.customFetch] = async (url, options) => {
      const response = await fetch(url, options as RequestInit);
      if (!url.endsWith('/token')) return response;
      if (retried) {
        answers.push(String(response.status));
        return response;
      }
      // The first poll goes out twice, as from a client whose retry fired too early: the second is too soon.
      retried = true;
      answers.push(`${response.status} ${((await response.json()) as { error: string }).error}`);
      const again = await fetch(url, options as RequestInit);
      const body = (await again.clone().json()) as { error: string };
      answers.push(`${again.status} ${body.error}`);
      await actAsPerson(idp.url, device.verification_uri_complete!);
      return again;
    };
    const tokens = await client.pollDeviceAuthorizationGrant(config, device);
    // openid-client grew its interval by 5 s on slow_down; had the server grown its own otherwise, the
    // next poll would have been slowed down again.
    expect(answers).toEqual(['400 authorization_pending', '400 slow_down', '200']);
    expect(tokens.claims()!.aud).toBe(EXAMPLE_APP.id);
  }, 20_000);
});
