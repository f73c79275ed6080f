// The oidc connector when the upstream is down, silent or behind TLS: bounded timeouts, readable
// reasons, discovery retried, rootCAs trusted and an untrusted certificate named.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchTrusting } from '../../../connectors/oidc/tls-fetch.js';
import { makeCertificates } from '../ldap/slapd.js';
import { browseUpstream, listen, startUpstreamIdP, type UpstreamIdP } from './upstream-idp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal } from '../context.js';
import { CALLBACK, scopes, startOIDCBed, type OIDCBed } from './harness.js';

let bed: OIDCBed;
beforeAll(async () => {
  bed = await startOIDCBed();
});
afterAll(async () => bed?.close());
const open: OIDCBed['open'] = (config, upstream) => bed.open(config, upstream);

describe('oidc connector: upstream down or slow', () => {
  it('fails fast with upstream_unavailable when nothing listens', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const connector = await open({ issuer: `http://127.0.0.1:${port}` });
    const error = await refusal(connector.loginURL(scopes, CALLBACK, 's'));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toMatch(/could not be reached/);
  });

  it('gives up after upstreamTimeout when the upstream never answers', async () => {
    const silent = createServer(() => undefined);
    bed.track(silent);
    const port = await listen(silent);
    const connector = await open({ issuer: `http://127.0.0.1:${port}`, upstreamTimeout: '300ms' });
    const started = Date.now();
    const error = await refusal(connector.loginURL(scopes, CALLBACK, 's'));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toMatch(/did not answer the discovery request in time/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('retries discovery after a failure instead of caching it', async () => {
    const connector = await open({ issuer: 'http://127.0.0.1:1' });
    await refusal(connector.loginURL(scopes, CALLBACK, 's'));
    const error = await refusal(connector.loginURL(scopes, CALLBACK, 's'));
    expect(error.code).toBe('upstream_unavailable');
  });
});

describe('oidc connector: TLS to the upstream (rootCAs)', () => {
  let tlsIdP: UpstreamIdP;
  let dir: string;
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'idgate-oidc-tls-'));
    const files = await makeCertificates(dir);
    ca = await readFile(files.ca, 'utf8');
    tlsIdP = await startUpstreamIdP({ redirectURIs: [CALLBACK], tls: { key: await readFile(files.key, 'utf8'), cert: await readFile(files.cert, 'utf8') } });
    tlsIdP.accounts.set('alice', { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true });
  });
  afterAll(async () => {
    await tlsIdP?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs in over https trusting the CA given in rootCAs (discovery, token, JWKS and userinfo)', async () => {
    const connector = await open({ rootCAs: [join(dir, 'ca.pem')], getUserInfo: true }, tlsIdP);
    tlsIdP.nextAccount = 'alice';
    const { url, connectorData } = await connector.loginURL(scopes, CALLBACK, 'state-123');
    const callback = await browseUpstream(url, CALLBACK, fetchTrusting([ca]));
    expect((await connector.handleCallback(scopes, connectorData, { url: callback })).email).toBe('alice@example.com');
  });

  it('refuses an upstream whose certificate is not trusted', async () => {
    const error = await refusal((await open({}, tlsIdP)).loginURL(scopes, CALLBACK, 's'));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toMatch(/TLS certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
  });
});

