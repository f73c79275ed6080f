/**
 * Starts a whole idgate issuer for a test: real config parsing, memory (or given) storage, the
 * signer, connectors and every route, on 127.0.0.1 with a port picked by the OS. Stop it with close().
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig, type Config } from '../../src/config/load.js';
import { buildIssuer, type Issuer } from '../../src/issuer.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import type { DeliveryPolicy } from '../../src/sessions/backchannel.js';
import type { Storage } from '../../src/storage/storage.js';
import { memoryAuditLog, type AuditLog } from '../../src/telemetry/audit.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { Clock } from '../../src/clock.js';

export const EXAMPLE_APP = {
  id: 'example-app',
  secret: 'ZXhhbXBsZS1hcHAtc2VjcmV0',
  redirectURI: 'http://127.0.0.1:5555/callback',
};
export const PUBLIC_APP = { id: 'public-app', redirectURI: 'http://127.0.0.1:5555/public/callback' };
export const ADMIN = { email: 'admin@example.com', password: 'password', userId: '08a8684b-db88-4b73-90a9-3cd1661f5466' };

/** The password DB with ADMIN in it: the config's `enablePasswordDB` and `staticPasswords`. */
export const ADMIN_PASSWORD_DB = `enablePasswordDB: true
staticPasswords:
  - email: ${ADMIN.email}
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: ${ADMIN.userId}
`;

/** The default test config body (everything but `issuer`). */
export const DEFAULT_TEST_CONFIG = `
storage:
  type: memory
web:
  http: 127.0.0.1:0
oauth2:
  skipApprovalScreen: true
staticClients:
  - id: ${EXAMPLE_APP.id}
    name: Example App
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
  - id: ${PUBLIC_APP.id}
    name: Public App
    public: true
    redirectURIs: [${PUBLIC_APP.redirectURI}]
connectors:
  - type: mockCallback
    id: mock
    name: Mock
enablePasswordDB: true
staticPasswords:
  - email: ${ADMIN.email}
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: ${ADMIN.userId}
    groups: [admins, developers]
`;

export interface TestIssuer {
  /** The issuer URL, e.g. http://127.0.0.1:41234/dex */
  url: string;
  origin: string;
  issuer: Issuer;
  config: Config;
  storage: Storage;
  audit: ReturnType<typeof memoryAuditLog>;
  close(): Promise<void>;
}

export interface TestIssuerOptions {
  /** Config YAML without `issuer:` (or made from the issuer URL); defaults to DEFAULT_TEST_CONFIG. */
  configYaml?: string | ((issuerURL: string) => string);
  /** Storage to use instead of a fresh memory store (e.g. a shared one for two issuers). */
  storage?: Storage;
  now?: Clock;
  /** Issuer path, "/dex" by default. */
  path?: string;
  /**
   * The issuer URL's host, 127.0.0.1 by default. `localhost` (WebAuthn in a browser needs a domain)
   * listens on [::1] too, on the same port: a browser may try either.
   */
  host?: '127.0.0.1' | 'localhost';
  env?: Record<string, string>;
  /** Where the issuer's audit events go instead of `audit` (a stream, to see each event's request). */
  auditLog?: AuditLog;
  /** How back-channel logout tokens are retried (faster than the default in tests). */
  backchannelPolicy?: DeliveryPolicy;
}

export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const servers = [server];
  if (options.host === 'localhost') {
    const v6 = http.createServer();
    await new Promise<void>((resolve, reject) => v6.once('error', reject).listen(port, '::1', resolve));
    servers.push(v6);
  }
  const origin = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const url = `${origin}${options.path ?? '/dex'}`;
  const yaml = typeof options.configYaml === 'function' ? options.configYaml(url) : options.configYaml ?? DEFAULT_TEST_CONFIG;
  const config = parseConfig(`issuer: ${url}\n${yaml}`, 'test-config.yaml', options.env ?? {});
  const now = options.now ?? Date.now;
  const storage = options.storage ?? createStorage(createMemoryBackend(), { now });
  const audit = memoryAuditLog();
  const issuer = await buildIssuer(config, {
    logger: silentLogger(), storage, now, audit: options.auditLog ?? audit,
    ...(options.backchannelPolicy ? { backchannelPolicy: options.backchannelPolicy } : {}),
  });
  for (const listener of servers) listener.on('request', issuer.app.callback());
  return {
    url,
    origin,
    issuer,
    config,
    storage: issuer.context.storage,
    audit,
    async close() {
      for (const listener of servers) {
        listener.closeAllConnections();
        await new Promise<void>((resolve) => listener.close(() => resolve()));
      }
      await issuer.close();
    },
  };
}
