// What an authorization request may cost storage: every request waits there for its login, so a
// parameter is bounded in length (refused as a page, never echoed into a redirect) and a client IP
// may store only login.authRequests.maxPerClientIP requests per window (then a 429 page).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PARAMETER_LENGTH } from '../../src/oidc/authorize/check_parameter_sizes.js';
import { authURL, BASE_CONFIG, get, postForm, startLoginServer, type LoginServer } from './harness.js';

let server: LoginServer;
beforeAll(async () => {
  server = await startLoginServer({ config: `${BASE_CONFIG}\nlogin:\n  authRequests: { maxPerClientIP: 5, window: 10m }\n` });
});
afterAll(() => server.close());

const storedRequests = async () => (await server.context.storage.authRequests.list()).length;

describe('authorization request bounds', () => {
  it('refuses a parameter longer than the limit with a page naming it, storing nothing and echoing nothing', async () => {
    const before = await storedRequests();
    const state = 's'.repeat(MAX_PARAMETER_LENGTH + 1);
    const response = await get(authURL(server, { state }));
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    const html = await response.text();
    expect(html).toContain('the &quot;state&quot; parameter is longer than 4096 characters');
    expect(html).not.toContain('sss');
    expect(await storedRequests()).toBe(before);
    // A parameter name that is not a registered shape is not named back.
    const odd = await get(`${authURL(server)}&${encodeURIComponent('<x>')}=${'v'.repeat(MAX_PARAMETER_LENGTH + 1)}`);
    expect(await odd.text()).toContain('a parameter is longer than 4096 characters');
  });

  it('refuses parameters that are each within the limit but too long together (a POSTed /auth; a GET URL that long is refused by the HTTP server)', async () => {
    const extra = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`x_${i}`, 'v'.repeat(4000)]));
    const query = Object.fromEntries(new URL(authURL(server)).searchParams);
    const response = await postForm(`${server.url}/auth`, { ...query, ...extra });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('parameters are longer than 16384 characters together');
  });

  it('accepts a long but bounded state', async () => {
    const response = await get(authURL(server, { state: 's'.repeat(MAX_PARAMETER_LENGTH) }));
    expect([200, 302, 303]).toContain(response.status);
  });

  it('stores at most maxPerClientIP requests per client IP in the window, then answers a 429 page', async () => {
    // The requests of the tests above count too: one was stored.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(authURL(server, { state: `st-${i}` }))).status);
    expect(statuses.slice(0, 4).every((status) => status !== 429)).toBe(true);
    expect(statuses.slice(4)).toEqual([429, 429]);
    const stored = await storedRequests();
    const refused = await get(authURL(server));
    expect(refused.status).toBe(429);
    expect(await refused.text()).toMatch(/Too many sign-ins were started from your network; try again in 10 minutes/);
    expect(await storedRequests()).toBe(stored);
    // The window passes: requests are stored again.
    server.clock.advance(10 * 60_000 + 1);
    expect((await get(authURL(server))).status).not.toBe(429);
  });
});
