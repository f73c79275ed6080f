/**
 * The device flow over plain HTTP, for tests that play the device (ask for codes, poll) and the person
 * (open the code form, type the code, log in, approve or deny) against a test issuer.
 */
import { followLogin } from './http-login.js';
import { ADMIN, EXAMPLE_APP } from './issuer.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 §3.2 */
export interface DeviceCodes {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** The example app's credentials in the form (client_secret_post). */
export const EXAMPLE_CLIENT = { client_id: EXAMPLE_APP.id, client_secret: EXAMPLE_APP.secret };

export function postForm(url: string, form: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
}

export async function requestDeviceCodes(issuer: string, form: Record<string, string> = { ...EXAMPLE_CLIENT, scope: 'openid email offline_access' }): Promise<DeviceCodes> {
  const response = await postForm(`${issuer}/device/code`, form);
  if (response.status !== 200) throw new Error(`/device/code answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as DeviceCodes;
}

/** One poll at `path` (/token by default); answers the status and the JSON body. */
export async function poll(
  issuer: string,
  deviceCode: string,
  extra: Record<string, string> = EXAMPLE_CLIENT,
  path = '/token',
): Promise<{ status: number; body: Record<string, string> }> {
  const response = await postForm(`${issuer}${path}`, { grant_type: DEVICE_GRANT, device_code: deviceCode, ...extra });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

/**
 * The person: opens the verification URI (with or without the code in it), types `userCode` if given,
 * logs in with the password DB and approves (or denies); answers the last page, /device/callback's.
 */
export async function actAsPerson(issuer: string, startURL: string, options: { userCode?: string; deny?: boolean } = {}): Promise<{ status: number; html: string }> {
  const callback = await followLogin(startURL, {
    redirectURI: `${issuer}/device/callback`,
    connector: 'local',
    username: ADMIN.email,
    password: ADMIN.password,
    ...options,
  });
  const response = await fetch(callback);
  return { status: response.status, html: await response.text() };
}
