/**
 * What every login page promises: security headers and a strict CSP, theming from config, the static
 * assets, the root page, error pages without internals, and a chooser that lists only connectors
 * that opened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { registerConnector } from '../../src/connector.js';
import { openConnectors } from '../../src/login/connectors.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import { z } from 'zod';
import { authURL, BASE_CONFIG, get, startLoginServer, type LoginServer } from './harness.js';

const THEMED = `${BASE_CONFIG}frontend:
  issuer: Acme Login
  logoURL: https://cdn.acme.example/logo.png
  theme: dark
  extraCSS: ".brand span { letter-spacing: .1em }"
connectors:
  - type: mockCallback
    id: mock
    name: Mock
`;

let server: LoginServer;
beforeAll(async () => {
  server = await startLoginServer({ config: THEMED });
});
afterAll(() => server.close());

describe('page headers', () => {
  it('sends a strict CSP and the anti-framing, no-sniff, no-referrer and no-store headers', async () => {
    const response = await get(authURL(server));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('uses no inline script or style that the CSP would block', async () => {
    const html = await (await get(authURL(server))).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=/);
  });
});

describe('theming (frontend)', () => {
  it('shows the configured issuer name, logo and theme', async () => {
    const html = await (await get(authURL(server))).text();
    expect(html).toMatch(/<html lang="en" data-theme="dark">/);
    expect(html).toMatch(/<title>Sign in · Acme Login<\/title>/);
    expect(html).toMatch(/<img src="https:\/\/cdn\.acme\.example\/logo\.png" alt=""/);
    expect(html).toMatch(/<span>Acme Login<\/span>/);
  });

  it('appends extraCSS to the stylesheet, which has light, dark and auto themes', async () => {
    const response = await get(`${server.url}/static/style.css`);
    expect(response.headers.get('content-type')).toMatch(/text\/css/);
    const css = await response.text();
    expect(css).toContain(':root[data-theme=dark]');
    expect(css).toContain('@media (prefers-color-scheme:dark){:root[data-theme=auto]');
    expect(css.trimEnd().endsWith('.brand span { letter-spacing: .1em }')).toBe(true);
  });

  it('accepts web.frontend as well, defaulting to the auto theme and idgate logo', async () => {
    const other = await startLoginServer({ config: BASE_CONFIG.replace('web: { http: 127.0.0.1:0 }', 'web: { http: 127.0.0.1:0, frontend: { issuer: Web Front } }') });
    try {
      const html = await (await get(`${other.url}/`)).text();
      expect(html).toMatch(/data-theme="auto"/);
      expect(html).toMatch(/<title>Web Front · Web Front<\/title>/);
      expect(html).toMatch(/<img src="\/dex\/static\/logo\.svg"/);
    } finally {
      await other.close();
    }
  });
});

describe('static assets and the root page', () => {
  it('serves the logo and 404s anything else under /static', async () => {
    expect((await get(`${server.url}/static/logo.svg`)).headers.get('content-type')).toBe('image/svg+xml');
    const missing = await get(`${server.url}/static/..%2Fpackage.json`);
    expect(missing.status).toBe(404);
  });

  it('shows a root page with the discovery link', async () => {
    const html = await (await get(`${server.url}/`)).text();
    expect(html).toContain('href="/dex/.well-known/openid-configuration"');
  });
});

describe('connectors that fail to open', () => {
  it('are logged and left out, and the chooser does not mention them', async () => {
    registerConnector('alwaysBroken', { kind: 'password', configSchema: z.strictObject({}), open: () => Promise.reject(new Error('TLS handshake with ldap.example failed')) });
    const config = parseConfig(`issuer: http://127.0.0.1/dex\n${BASE_CONFIG}connectors:
  - { type: alwaysBroken, id: broken, name: Broken LDAP }
  - { type: mockCallback, id: mock, name: Mock }
`, 'test.yaml', {});
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const connectors = await openConnectors(config, { storage: createStorage(createMemoryBackend()), logger, now: Date.now, issuer: 'http://127.0.0.1/dex' });
    expect([...connectors.keys()]).toEqual(['mock', 'local']);
    expect(lines.join('')).toMatch(/"connector":"broken".*connector failed to open/);

    const withBroken = await startLoginServer({ config: `${BASE_CONFIG}connectors:
  - { type: alwaysBroken, id: broken, name: Broken LDAP }
  - { type: mockCallback, id: mock, name: Mock }
` });
    try {
      const html = await (await get(authURL(withBroken))).text();
      expect(html).toMatch(/Continue with Mock/);
      expect(html).not.toMatch(/Broken|broken/);
    } finally {
      await withBroken.close();
    }
  });
});
