/**
 * Dex's `grpc:` section (the management API): its keys are honoured, an unknown key is refused with its
 * path, and the API refuses to listen beyond loopback without mutual TLS. `serve` starts the listener
 * the section names; `check` opens its TLS files as serve would.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { preflightConfig } from '../../src/config/preflight.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { makeCertificates, type TestCertificates } from '../admin/api/certs.js';
import { dexClient } from '../admin/api/harness.js';

const BASE = 'issuer: http://127.0.0.1:5556/dex\nstorage: { type: memory }\nweb: { http: 127.0.0.1:0 }\n';

function problemsOf(yaml: string): string[] {
  try {
    parseConfig(yaml, 'config.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  return [];
}

let certs: TestCertificates;
let mtls: string;

beforeAll(async () => {
  certs = await makeCertificates();
  mtls = `  tlsCert: ${certs.files.serverCert}\n  tlsKey: ${certs.files.serverKey}\n  tlsClientCA: ${certs.files.ca}\n`;
});
afterAll(() => certs?.remove());

describe("Dex's grpc section", () => {
  it("accepts Dex's keys: addr, tlsCert, tlsKey, tlsClientCA, tlsMinVersion, tlsMaxVersion, reflection", () => {
    const config = parseConfig(`${BASE}grpc:\n  addr: 0.0.0.0:5557\n${mtls}  tlsMinVersion: "1.3"\n  tlsMaxVersion: "1.3"\n  reflection: true\n`, 'config.yaml', {});
    expect(config.grpc).toEqual({
      addr: '0.0.0.0:5557', tlsCert: certs.files.serverCert, tlsKey: certs.files.serverKey, tlsClientCA: certs.files.ca,
      tlsMinVersion: '1.3', tlsMaxVersion: '1.3', reflection: true,
    });
    expect(parseConfig(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n`, 'config.yaml', {}).grpc).toEqual({ addr: '127.0.0.1:5557', reflection: false });
  });

  it('refuses an unknown key with its path', () => {
    expect(problemsOf(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n  tlsClientCa: ca.pem\n`)[0]).toMatch(/^grpc\.tlsClientCa: unknown key \(did you mean "tlsClientCA"\?\)/);
  });

  it('refuses to serve the API beyond loopback without mutual TLS', () => {
    for (const addr of ['0.0.0.0:5557', ':5557', '10.0.0.5:5557', '[::]:5557']) {
      expect(problemsOf(`${BASE}grpc:\n  addr: "${addr}"\n`), addr).toEqual([
        `grpc.tlsClientCA: the management API on ${addr} (not a loopback address) needs mutual TLS: set tlsCert, tlsKey and tlsClientCA, or listen on 127.0.0.1 (docs/admin-api.md)`,
      ]);
    }
    expect(problemsOf(`${BASE}grpc:\n  addr: 0.0.0.0:5557\n  tlsCert: c.pem\n  tlsKey: k.pem\n`)[0]).toMatch(/^grpc\.tlsClientCA: the management API on 0\.0\.0\.0:5557/);
    for (const addr of ['127.0.0.1:5557', 'localhost:5557', '[::1]:5557']) expect(problemsOf(`${BASE}grpc:\n  addr: "${addr}"\n`), addr).toEqual([]);
  });

  it('refuses half a TLS setup, inverted versions, no addr, and an API without the issuer', () => {
    expect(problemsOf(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n  tlsCert: c.pem\n`)).toEqual(['grpc.tlsKey: is required with tlsCert']);
    expect(problemsOf(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n  tlsClientCA: ca.pem\n`)).toEqual(['grpc.tlsClientCA: needs tlsCert and tlsKey (TLS on the API listener)']);
    expect(problemsOf(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n${mtls}  tlsMinVersion: "1.3"\n  tlsMaxVersion: "1.2"\n`)).toEqual(['grpc.tlsMaxVersion: is lower than tlsMinVersion (1.3)']);
    expect(problemsOf(`${BASE}grpc:\n  reflection: true\n`)[0]).toMatch(/^grpc\.addr: /);
    const filterOnly = 'issuer: http://127.0.0.1:5556/dex\nstorage: { type: memory }\nfilter:\n  grpc: 127.0.0.1:0\ngrpc:\n  addr: 127.0.0.1:5557\n';
    expect(problemsOf(filterOnly)).toContain('grpc: the management API runs beside the issuer: set web.http or web.https too');
  });

  it('has check open the TLS files as serve would, naming the key of the one that fails', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'idgate-grpc-check-'));
    try {
      const notPem = path.join(dir, 'ca.pem');
      await writeFile(notPem, 'not a certificate');
      const missing = parseConfig(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n  tlsCert: ${certs.files.serverCert}\n  tlsKey: ${path.join(dir, 'absent.key')}\n  tlsClientCA: ${certs.files.ca}\n`, 'config.yaml', {});
      expect((await preflightConfig(missing, { connectors: false })).map((p) => p.path)).toEqual(['grpc.tlsKey']);
      const broken = parseConfig(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n  tlsCert: ${certs.files.serverCert}\n  tlsKey: ${certs.files.serverKey}\n  tlsClientCA: ${notPem}\n`, 'config.yaml', {});
      expect((await preflightConfig(broken, { connectors: false })).map((p) => p.path)).toEqual(['grpc.tlsClientCA']);
      const mismatched = parseConfig(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n  tlsCert: ${certs.files.serverCert}\n  tlsKey: ${certs.files.ca}\n  tlsClientCA: ${certs.files.ca}\n`, 'config.yaml', {});
      expect((await preflightConfig(mismatched, { connectors: false })).map((p) => p.path)).toEqual(['grpc.tlsCert']);
      const good = parseConfig(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n${mtls}`, 'config.yaml', {});
      expect(await preflightConfig(good, { connectors: false })).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is served by serve: the API answers on the address the section names', async () => {
    const config = parseConfig(`${BASE}grpc:\n  addr: 127.0.0.1:0\n${mtls}`, 'config.yaml', {});
    const server = await startServer(config, { logger: silentLogger(), listen: { web: '127.0.0.1:0', telemetry: '127.0.0.1:0' } });
    const api = dexClient(server.urls.grpc!, { ca: certs.ca, ...certs.client });
    try {
      expect(await api.call('GetVersion')).toMatchObject({ api: 3 });
    } finally {
      api.close();
      await server.close();
    }
  });
});
