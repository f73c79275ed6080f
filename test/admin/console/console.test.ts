/**
 * The console in headless Chromium against a whole idgate (issuer, filter, console in one process):
 * signing in through the issuer, the masthead and namespace locks for a STRICT mesh and a PERMISSIVE
 * one, a validation finding on its policy, the traffic graph after real ext_authz Check calls, explain,
 * sessions (revoke as admin, audited), and the refusals: signed out, outside the groups, read-only,
 * CSRF. Light and dark, keyboard and contrast; screenshots to IDGATE_SCREENSHOTS (docs/images) or /tmp.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshToken } from '../../storage/fixtures.js';
import { until } from '../../helpers/until.js';
import { contrastRatios, launchBrowser, watchCsp } from './browser.js';
import { customerToken, FRONTEND, FRONTEND_PRINCIPAL, sendChecks, signIn, startConsoleServer, USERS, type ConsoleServer } from './harness.js';

const SHOTS = process.env.IDGATE_SCREENSHOTS ?? '/tmp';
const ALICE = 'https://tokens.example/alice';

let browser: Browser;
let strict: ConsoleServer;
const contexts: BrowserContext[] = [];

async function newPage(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: options.colorScheme ?? 'light' });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  return context.newPage();
}

beforeAll(async () => {
  browser = await launchBrowser();
  strict = await startConsoleServer({ mesh: 'strict' });
});
afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await strict?.close();
});

/** The lock a `.lock` element shows: Kiali's status, the icon, the visible text, the tooltip. */
async function lockOf(page: Page, scope: string): Promise<{ status: string | null; icon: string | null; text: string; tooltip: string }> {
  const lock = page.locator(`${scope} .lock`).first();
  const tooltipId = await lock.getAttribute('aria-describedby');
  return {
    status: await lock.getAttribute('data-status'),
    icon: (await lock.locator('svg').count()) > 0 ? await lock.locator('svg').getAttribute('data-lock') : null,
    text: (await lock.innerText()).trim(),
    tooltip: (await page.locator(`[id="${tooltipId}"]`).textContent()) ?? '',
  };
}

describe('signing in', () => {
  it('sends a signed-out browser to the issuer, and back to the page it asked for', async () => {
    const page = await newPage();
    await page.goto(`${strict.console}/graph?window=15m`);
    expect(new URL(page.url()).origin).toBe(new URL(strict.issuer).origin);
    expect(await page.title()).toBe('Sign in · idgate');
    await page.getByLabel('Email address').fill(USERS.viewer.email);
    await page.getByLabel('Password').fill('password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/console/graph' && url.search === '?window=15m');
    await expect(page.locator('h1').textContent()).resolves.toBe('Traffic graph');
    await expect(page.locator('.role').textContent()).resolves.toBe('read-only');
  });

  it('sets an HttpOnly, SameSite=Strict session cookie scoped to /console', async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.viewer);
    const cookies = await page.context().cookies(strict.console);
    const session = cookies.find((c) => c.name === 'idgate-console');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console', secure: false });
    expect(session!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The sign-in cookie is gone once used.
    expect(cookies.find((c) => c.name === 'idgate-console-signin')).toBeUndefined();
  });

  it('signs out: the session ends server-side, the next page asks to sign in again', async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.viewer);
    const before = (await page.context().cookies(strict.console)).find((c) => c.name === 'idgate-console')!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Signed out');
    // The old cookie, replayed, no longer opens anything.
    const replay = await fetch(`${strict.console}/`, { headers: { cookie: `idgate-console=${before.value}` }, redirect: 'manual' });
    expect(replay.status).toBe(302);
    expect(replay.headers.get('location')).toMatch(/^\/console\/login\?returnTo=/);
  });

  it('answers a person outside the configured groups with a readable 403 page', async () => {
    const page = await newPage();
    await page.goto(`${strict.console}/`);
    await page.getByLabel('Email address').fill(USERS.outsider.email);
    await page.getByLabel('Password').fill('password');
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/console/' && r.status() === 403);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await answer;
    await expect(page.locator('h1').textContent()).resolves.toBe('No access');
    const message = (await page.locator('.message').textContent()) ?? '';
    expect(message).toContain(USERS.outsider.email);
    expect(message).toContain('developers');
    expect(message).toContain('ops-admins');
    expect(await page.getByRole('navigation', { name: 'Console' }).count()).toBe(0);
  });

  it('refuses a callback that this browser did not start (no sign-in cookie)', async () => {
    const response = await fetch(`${strict.console}/callback?code=forged&state=forged`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Sign-in expired');
  });
});

describe('locks and validation (STRICT mesh)', () => {
  it('shows the mesh-wide STRICT mTLS as a full lock, with why in its tooltip', async () => {
    const page = await newPage();
    const csp = watchCsp(page);
    await signIn(page, strict.console, USERS.admin);
    const mesh = await lockOf(page, '.mesh');
    expect(mesh).toMatchObject({ status: 'MTLS_ENABLED_DEFAULT', icon: 'full', text: 'mTLS: on' });
    expect(mesh.tooltip).toContain('Mesh-wide mTLS is enabled, configured by default');
    expect(mesh.tooltip).toContain('PeerAuthentication STRICT');
    expect(mesh.tooltip).toContain('auto mTLS on');
    // The tooltip shows on keyboard focus, and Escape dismisses it.
    await page.locator('.mesh .lock').focus();
    await expect(page.locator('#mesh-mtls-why').isVisible()).resolves.toBe(true);
    await page.keyboard.press('Escape');
    await expect(page.locator('#mesh-mtls-why').isVisible()).resolves.toBe(false);
    expect(csp).toEqual([]);
  });

  it("shows each namespace's lock by Kiali's namespace rules", async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.admin);
    const root = await lockOf(page, 'tr[data-namespace="istio-system"]');
    expect(root).toMatchObject({ status: 'MTLS_ENABLED', icon: 'full', text: 'Strict' });
    const legacy = await lockOf(page, 'tr[data-namespace="legacy"]');
    expect(legacy).toMatchObject({ status: 'MTLS_PARTIALLY_ENABLED', icon: 'open', text: 'Permissive' });
    expect(legacy.tooltip).toContain('namespace legacy: PeerAuthentication PERMISSIVE');
    const shop = await lockOf(page, 'tr[data-namespace="shop"]');
    expect(shop).toMatchObject({ status: 'UNSET_INHERITED_STRICT', icon: 'full' });
    expect(shop.text).toContain('inherited');
    await expect(page.locator('tr[data-namespace="shop"] td').nth(1).textContent()).resolves.toBe('1 AuthorizationPolicy');
    await expect(page.locator('tr[data-namespace="shop"] .findings-count').textContent()).resolves.toBe('1 warning');
  });

  it('shows a validation finding next to its policy, with the file and line', async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.admin, '/policies?namespace=shop');
    const card = page.locator('article[data-name="shop/orders-access"]');
    await expect(card.locator('.where').first().textContent()).resolves.toMatch(/policies\/shop\.yaml:3$/);
    const finding = card.locator('.finding');
    await expect(finding.count()).resolves.toBe(1);
    const text = (await finding.textContent()) ?? '';
    expect(text).toContain('KIA0101');
    expect(text).toContain('spec.rules[2].from[0].source.namespaces[0]');
    expect(text).toContain('ghost');
    expect(text).toMatch(/shop\.yaml:\d+/);
    // The rules in words: who, what, conditions.
    const rules = card.locator('.rule');
    await expect(rules.count()).resolves.toBe(3);
    await expect(rules.nth(0).textContent()).resolves.toContain('peer identity is cluster.local/ns/web/sa/frontend');
    await expect(rules.nth(1).textContent()).resolves.toContain('request.auth.claims[scope] is orders');
    await expect(rules.nth(1).textContent()).resolves.toContain('method is one of GET, POST');
    await expect(card.locator('.workloads').textContent()).resolves.toBe('Deployment orders');
  });
});

describe('traffic graph', () => {
  it('draws the edges of a burst of real ext_authz Check calls, with counts and mTLS share as sent', async () => {
    const alice = await customerToken(strict.key, 'alice');
    const bearer = { authorization: `Bearer ${alice}` };
    const statuses = await sendChecks(strict.grpc, [
      ...Array.from({ length: 4 }, () => ({ peer: FRONTEND, path: '/orders' })),
      ...Array.from({ length: 2 }, () => ({ path: '/orders' })),
      ...Array.from({ length: 2 }, () => ({ peer: FRONTEND, headers: bearer, namespace: 'legacy', labels: 'app=billing', path: '/invoices' })),
      ...Array.from({ length: 3 }, () => ({ headers: bearer, namespace: 'legacy', labels: 'app=billing', path: '/invoices' })),
    ]);
    expect(statuses).toEqual([200, 200, 200, 200, 403, 403, 200, 200, 200, 200, 200]);

    const page = await newPage();
    const csp = watchCsp(page);
    await signIn(page, strict.console, USERS.viewer, '/graph');
    await page.waitForFunction('document.getElementById("graph").dataset.rendered !== undefined');
    await expect(page.locator('#graph').getAttribute('data-rendered')).resolves.toBe('4');
    const row = async (edge: string) => {
      const cells = page.locator(`tr[data-edge="${edge}"] td`);
      return { total: await cells.nth(2).textContent(), allow: await cells.nth(3).textContent(), deny: await cells.nth(4).textContent(), mtls: await cells.nth(5).textContent() };
    };
    await expect(row(`peer:${FRONTEND_PRINCIPAL} -> wl:shop|app=orders`)).resolves.toEqual({ total: '4', allow: '4', deny: '0', mtls: '100%' });
    await expect(row('anonymous -> wl:shop|app=orders')).resolves.toEqual({ total: '2', allow: '0', deny: '2', mtls: '0%' });
    await expect(row(`peer:${FRONTEND_PRINCIPAL} -> wl:legacy|app=billing`)).resolves.toEqual({ total: '2', allow: '2', deny: '0', mtls: '100%' });
    await expect(row(`rp:${ALICE} -> wl:legacy|app=billing`)).resolves.toEqual({ total: '3', allow: '3', deny: '0', mtls: '0%' });
    // Cytoscape drew the same edges; namespaces are compound nodes.
    const drawn = await page.evaluate('idgateGraph.edges().map((e) => [e.id(), e.data("total"), e.data("mtlsShare")]).sort()');
    expect(drawn).toEqual([
      ['anonymous -> wl:shop|app=orders', 2, '0%'],
      [`peer:${FRONTEND_PRINCIPAL} -> wl:legacy|app=billing`, 2, '100%'],
      [`peer:${FRONTEND_PRINCIPAL} -> wl:shop|app=orders`, 4, '100%'],
      [`rp:${ALICE} -> wl:legacy|app=billing`, 3, '0%'],
    ]);
    expect(await page.evaluate('idgateGraph.$id("ns:web").children().map((n) => n.id())')).toEqual([`peer:${FRONTEND_PRINCIPAL}`]);
    await page.screenshot({ path: join(SHOTS, 'console-graph-light.png') });
    expect(csp).toEqual([]);
  });

  it("groups callers by token principal on request, mixing the edge's mTLS share", async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.viewer, '/graph?window=5m&group=request');
    await page.waitForFunction('document.getElementById("graph").dataset.rendered !== undefined');
    const cells = page.locator(`tr[data-edge="rp:${ALICE} -> wl:legacy|app=billing"] td`);
    await expect(cells.nth(2).textContent()).resolves.toBe('5');
    await expect(cells.nth(5).textContent()).resolves.toBe('40%');
    // Clicking the edge in the graph lists its recent decisions in the side panel.
    await page.evaluate(`void idgateGraph.$id(${JSON.stringify(`rp:${ALICE} -> wl:legacy|app=billing`)}).emit('tap')`);
    await page.locator('#edge-panel .edge-summary').waitFor();
    await expect(page.locator('#edge-panel .edge-summary').textContent()).resolves.toBe('5 request(s): 5 allowed, 0 denied, 40% with mTLS');
    await expect(page.locator('#edge-panel tr').count()).resolves.toBe(6);
    await expect(page.locator('#edge-panel').textContent()).resolves.not.toContain('Bearer');
  });

  it('lists recent decisions, filterable, without tokens', async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.viewer, '/decisions?decision=deny');
    const rows = page.locator('tr.decision');
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.first().textContent()).resolves.toContain('mtls_required');
    await page.goto(`${strict.console}/decisions?caller=alice`);
    await expect(page.locator('tr.decision').count()).resolves.toBe(5);
    expect(await page.content()).not.toContain('eyJ');
  });

  it('counts decisions per minute and the deny share per namespace', async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.viewer, '/?window=1m');
    const cells = page.locator('tr[data-namespace="shop"] td');
    await expect(cells.nth(3).textContent()).resolves.toBe('6.0');
    await expect(cells.nth(4).textContent()).resolves.toBe('33%');
    await page.screenshot({ path: join(SHOTS, 'console-overview-light.png') });
  });
});

describe('explain', () => {
  it('decides a typed-in request with the filter pipeline and names the matching rule', async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.viewer, '/explain');
    await page.getByLabel('Path (with query)').fill('/orders');
    await page.getByLabel('Peer identity').fill(FRONTEND);
    await page.getByLabel('Target namespace').fill('shop');
    await page.getByLabel('Target labels').fill('app=orders');
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.locator('.explain-result').waitFor();
    await expect(page.locator('[data-decision]').textContent()).resolves.toBe('ALLOW');
    await expect(page.locator('.decided-by').textContent()).resolves.toBe('Decided by shop/orders-access rule 1 (rules[0])');
    await expect(page.locator('.explained-policies .match').textContent()).resolves.toBe('rules[0]: MATCH');
  });

  it('verifies a token as the filter does and never writes it back', async () => {
    const page = await newPage();
    const token = await customerToken(strict.key, 'bob');
    await signIn(page, strict.console, USERS.viewer, '/explain');
    await page.getByLabel('Method').selectOption('POST');
    await page.getByLabel('Path (with query)').fill('/orders/12');
    await page.getByLabel('Token (JWT)').fill(token);
    await page.getByLabel('Peer identity').fill(FRONTEND);
    await page.getByLabel('Target namespace').fill('shop');
    await page.getByLabel('Target labels').fill('app=orders');
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.locator('.explain-result').waitFor();
    await expect(page.locator('.decided-by').textContent()).resolves.toBe('Decided by shop/orders-access rule 2 (rules[1])');
    await expect(page.locator('.facts').textContent()).resolves.toContain('https://tokens.example/bob');
    expect(await page.content()).not.toContain(token);
    await expect(page.getByLabel('Token (JWT)').inputValue()).resolves.toBe('');
  });
});

describe('sessions', () => {
  async function storedSession(id: string): Promise<void> {
    await strict.running.issuer!.context.storage.refreshTokens.create({ ...refreshToken(id, Date.now(), `user-${id}`), clientId: 'some-app' });
  }

  it('lets an admin revoke a session: the family is gone, its sid is denied, the audit names the operator', async () => {
    await storedSession('family-admin');
    const page = await newPage();
    await signIn(page, strict.console, USERS.admin, '/sessions');
    await page.locator('tr[data-session="family-admin"]').getByRole('button', { name: /Revoke/ }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Revoked the session of jane@example.com at some-app');
    const storage = strict.running.issuer!.context.storage;
    await expect(storage.refreshTokens.get('family-admin')).resolves.toBeUndefined();
    await expect(storage.revocations.get('sid:family-admin')).resolves.toMatchObject({ kind: 'sid', value: 'family-admin' });
    await until(async () => (await readFile(strict.auditFile, 'utf8').catch(() => '')).includes('family-admin'), true);
    const line = (await readFile(strict.auditFile, 'utf8')).split('\n').map((l) => (l ? JSON.parse(l) : {})).find((e) => e.sid === 'family-admin');
    expect(line).toMatchObject({ type: 'session_revoked', outcome: 'succeeded', reason: 'revoked_by_admin', origin: 'console', actor: USERS.admin.email });
  });

  it('gives a read-only operator no revoke button, and refuses the POST (audited)', async () => {
    await storedSession('family-viewer');
    const page = await newPage();
    await signIn(page, strict.console, USERS.viewer, '/sessions');
    await expect(page.locator('tr[data-session="family-viewer"] button').count()).resolves.toBe(0);
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    const response = await page.request.post(`${strict.console}/sessions/revoke`, { form: { csrf, session: 'family-viewer' }, headers: { origin: new URL(strict.console).origin } });
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain('Revoking a session needs the admin role.');
    await expect(strict.running.issuer!.context.storage.refreshTokens.get('family-viewer')).resolves.toBeDefined();
    await until(async () => (await readFile(strict.auditFile, 'utf8').catch(() => '')).includes('"sid":"family-viewer"'), true);
  });

  it('refuses a revoke without the CSRF token, with a wrong one, and from another origin', async () => {
    await storedSession('family-csrf');
    const page = await newPage();
    await signIn(page, strict.console, USERS.admin, '/sessions');
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    const origin = new URL(strict.console).origin;
    const post = (form: Record<string, string>, from = origin) => page.request.post(`${strict.console}/sessions/revoke`, { form, headers: { origin: from } });
    for (const response of [await post({ session: 'family-csrf' }), await post({ session: 'family-csrf', csrf: `${csrf}x` }), await post({ session: 'family-csrf', csrf }, 'http://evil.example')]) {
      expect(response.status()).toBe(403);
      expect(await response.text()).toContain('Request refused');
    }
    await expect(strict.running.issuer!.context.storage.refreshTokens.get('family-csrf')).resolves.toBeDefined();
    // The same form with the token goes through: the refusals were the token's doing.
    expect((await post({ session: 'family-csrf', csrf })).status()).toBe(200);
    await expect(strict.running.issuer!.context.storage.refreshTokens.get('family-csrf')).resolves.toBeUndefined();
  });

  it('lists the clients, the console\'s own among them, and the connectors, read-only', async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.viewer, '/clients');
    await expect(page.getByRole('table', { name: 'Clients' }).textContent()).resolves.toContain('idgate-console');
    await expect(page.getByRole('table', { name: 'Connectors' }).textContent()).resolves.toContain('local');
    expect(await page.content()).not.toContain('console-secret');
  });
});

describe('look and access', () => {
  it('renders light and dark with text contrast of at least 4.5:1', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await newPage({ colorScheme });
      await signIn(page, strict.console, USERS.admin, '/policies?namespace=shop');
      const ratios = await contrastRatios(page, 'h1, h2, h3, p, td, th, nav a, .badge, .where, .muted, .role, button, .clause, dt');
      expect(ratios.length).toBeGreaterThan(20);
      expect(Math.min(...ratios)).toBeGreaterThanOrEqual(4.5);
      if (colorScheme === 'dark') {
        await page.screenshot({ path: join(SHOTS, 'console-policies-dark.png') });
        expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(15, 18, 24)');
        await page.goto(`${strict.console}/graph`);
        await page.waitForFunction('document.getElementById("graph").dataset.rendered !== undefined');
        await page.screenshot({ path: join(SHOTS, 'console-graph-dark.png') });
      }
    }
  });

  it('is usable from the keyboard: skip link, navigation, labelled form fields', async () => {
    const page = await newPage();
    await signIn(page, strict.console, USERS.viewer, '/explain');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.className')).toBe('brand');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.getAttribute("aria-describedby")')).toBe('mesh-mtls-why');
    const unlabelled = await page.evaluate('[...document.querySelectorAll("input:not([type=hidden]), select, textarea")].filter((e) => !e.labels || e.labels.length === 0).length');
    expect(unlabelled).toBe(0);
  });
});

describe('a PERMISSIVE mesh', () => {
  it('shows a hollow lock in the masthead and open (inherited) locks', async () => {
    const permissive = await startConsoleServer({ mesh: 'permissive' });
    try {
      const page = await newPage();
      await signIn(page, permissive.console, USERS.viewer);
      const mesh = await lockOf(page, '.mesh');
      expect(mesh).toMatchObject({ status: 'MTLS_PARTIALLY_ENABLED_DEFAULT', icon: 'hollow', text: 'mTLS: partial' });
      expect(mesh.tooltip).toContain('Mesh-wide TLS is partially enabled, configured by default');
      expect(mesh.tooltip).toContain('PeerAuthentication PERMISSIVE');
      await expect(lockOf(page, 'tr[data-namespace="istio-system"]')).resolves.toMatchObject({ status: 'MTLS_PARTIALLY_ENABLED', icon: 'open', text: 'Permissive' });
      await expect(lockOf(page, 'tr[data-namespace="shop"]')).resolves.toMatchObject({ status: 'UNSET', icon: 'open' });
    } finally {
      await permissive.close();
    }
  });
});
