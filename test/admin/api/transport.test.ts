/**
 * The management API's listener: mutual TLS as Dex's grpc.tlsClientCA asks (no certificate, or one from
 * another CA, never reaches a handler) with certificate files re-read when they change, Dex's
 * GetVersion and GetDiscovery, UNIMPLEMENTED for Dex's newer RPCs idgate does not serve, and server
 * reflection (grpc.reflection) behind the same mTLS.
 */
import { createRequire } from 'node:module';
import { credentials, loadPackageDefinition, status, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAdminApi } from '../../../src/admin/api/server.js';
import { parseConfig } from '../../../src/config/load.js';
import { buildIssuer } from '../../../src/issuer.js';
import { memoryAuditLog } from '../../../src/telemetry/audit.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { waitFor } from '../../replicas/cluster.js';
import { dexClient, failure, grpcSection, useApiIssuer } from './harness.js';

const suite = useApiIssuer({ grpcExtra: '  reflection: true\n' });

/** The services a reflection client lists (grpc.reflection.v1), over `tls`. */
function listServices(address: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<string[]> {
  const proto = createRequire(import.meta.url).resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const root = loadPackageDefinition(loadSync(proto, { keepCase: true })) as GrpcObject;
  const Reflection = (((root.grpc as GrpcObject).reflection as GrpcObject).v1 as GrpcObject).ServerReflection as ServiceClientConstructor;
  const stub = new Reflection(address, credentials.createSsl(tls.ca, tls.key, tls.cert), { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as {
    ServerReflectionInfo(): NodeJS.ReadWriteStream & { write(message: object): boolean; end(): void };
    close(): void;
  };
  return new Promise((resolve, reject) => {
    const stream = stub.ServerReflectionInfo();
    stream.on('data', (answer: { list_services_response?: { service: Array<{ name: string }> } }) => {
      resolve(answer.list_services_response!.service.map((service) => service.name));
      stream.end();
    });
    stream.on('error', reject);
    stream.on('end', () => stub.close());
    stream.write({ list_services: '' });
  });
}

describe('management API certificate files', () => {
  it('are re-read when they change: a new tlsClientCA trusts its clients and no longer the old CA\'s', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idgate-api-reload-'));
    const ca = join(dir, 'clients-ca.pem');
    await copyFile(suite.certs.files.ca, ca);
    const config = parseConfig(`issuer: http://127.0.0.1:5556/dex\nstorage: {type: memory}\nweb: {http: 127.0.0.1:0}\n${grpcSection(suite.certs).replace(suite.certs.files.ca, ca)}`, 'reload.yaml', {});
    const idp = await buildIssuer(config, { logger: silentLogger(), audit: memoryAuditLog() });
    const api = await startAdminApi(config.grpc!, { issuer: idp, version: 'test', logger: silentLogger() });
    const address = `127.0.0.1:${api.port}`;
    try {
      const versionAs = (identity: { cert: Buffer; key: Buffer }) => {
        const caller = dexClient(address, { ca: suite.certs.ca, ...identity });
        return caller.call('GetVersion').finally(() => caller.close());
      };
      const trusted = () => versionAs(suite.certs.client);
      const stranger = () => versionAs(suite.certs.untrusted);
      await trusted();
      await copyFile(suite.certs.files.otherCa, ca);
      await waitFor('the listener to trust the new CA', () => stranger().then(() => true), 30_000);
      expect((await failure(trusted())).code).toBe(status.UNAVAILABLE);
    } finally {
      await api.close();
      await idp.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);
});

describe('management API transport', () => {
  it('answers GetVersion over mutual TLS with idgate\'s version and the API version of the calls it serves', async () => {
    expect(await suite.server.admin.call('GetVersion')).toEqual({ server: 'test-version', api: 3 });
  });

  it('answers GetDiscovery with the issuer\'s discovery document', async () => {
    const discovery = await (await fetch(`${suite.server.idp.url}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    const answer = await suite.server.admin.call<Record<string, unknown>>('GetDiscovery');
    expect(answer).toMatchObject({
      issuer: suite.server.idp.url,
      authorization_endpoint: discovery.authorization_endpoint,
      token_endpoint: discovery.token_endpoint,
      jwks_uri: discovery.jwks_uri,
      userinfo_endpoint: discovery.userinfo_endpoint,
      scopes_supported: discovery.scopes_supported,
      grant_types_supported: discovery.grant_types_supported,
      id_token_signing_alg_values_supported: discovery.id_token_signing_alg_values_supported,
    });
  });

  it('refuses a client that sends no certificate, before any handler runs', async () => {
    const before = suite.server.auditLines().length;
    const anonymous = dexClient(suite.server.address, { ca: suite.certs.ca });
    try {
      expect((await failure(anonymous.call('ListClients'))).code).toBe(status.UNAVAILABLE);
      expect((await failure(anonymous.call('CreateClient', { client: { id: 'sneaky', public: true } }))).code).toBe(status.UNAVAILABLE);
    } finally {
      anonymous.close();
    }
    expect(suite.server.auditLines().length).toBe(before);
    expect(await suite.server.idp.storage.clients.get('sneaky')).toBeUndefined();
  });

  it('refuses a certificate signed by a CA other than tlsClientCA', async () => {
    const stranger = dexClient(suite.server.address, { ca: suite.certs.ca, ...suite.certs.untrusted });
    try {
      expect((await failure(stranger.call('CreateClient', { client: { id: 'sneaky', public: true } }))).code).toBe(status.UNAVAILABLE);
    } finally {
      stranger.close();
    }
    expect(await suite.server.idp.storage.clients.get('sneaky')).toBeUndefined();
  });

  it('refuses a plaintext client on the TLS listener', async () => {
    const plain = dexClient(suite.server.address, 'insecure');
    try {
      expect((await failure(plain.call('ListClients'))).code).toBe(status.UNAVAILABLE);
    } finally {
      plain.close();
    }
  });

  it('answers UNIMPLEMENTED for the RPCs of Dex master that idgate does not serve', async () => {
    expect((await failure(suite.server.admin.call('ListAuthSessions', {}))).code).toBe(status.UNIMPLEMENTED);
  });

  it('lists the Dex service through reflection to a trusted client, and refuses reflection without a certificate', async () => {
    expect(await listServices(suite.server.address, { ca: suite.certs.ca, ...suite.certs.client })).toContain('api.Dex');
    await expect(listServices(suite.server.address, { ca: suite.certs.ca, ...suite.certs.untrusted })).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });
});
