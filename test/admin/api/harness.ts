/**
 * Drives the management API as a Dex operator's tool would: a grpc-js client generated at run time
 * from Dex's own api.proto (test/fixtures/dex/api.proto, not idgate's copy), over mutual TLS with the
 * certificates of certs.ts, against a whole test issuer whose API listens on 127.0.0.1.
 */
import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, type Client, type GrpcObject, type ServiceClientConstructor, type ServiceError, type status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import * as client from 'openid-client';
import { startAdminApi, type RunningAdminApi } from '../../../src/admin/api/server.js';
import { createAuditStream } from '../../../src/telemetry/audit.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { followLogin } from '../../helpers/http-login.js';
import { DEFAULT_TEST_CONFIG, startTestIssuer, type TestIssuer } from '../../helpers/issuer.js';
import { afterAll, beforeAll } from 'vitest';
import { makeCertificates, type TestCertificates } from './certs.js';

export const DEX_PROTO = fileURLToPath(new URL('../../fixtures/dex/api.proto', import.meta.url));

let constructor: ServiceClientConstructor | undefined;

/** The `api.Dex` client class, as `@grpc/proto-loader` generates it from Dex's proto. */
export function dexClientClass(): ServiceClientConstructor {
  constructor ??= ((loadPackageDefinition(loadSync(DEX_PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true })).api as GrpcObject).Dex as ServiceClientConstructor);
  return constructor;
}

export interface DexClient {
  /** One unary call; rejects with the ServiceError (code, details) the server answered. */
  call<T = Record<string, unknown>>(rpc: string, request?: object): Promise<T>;
  close(): void;
}

export function dexClient(address: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer } | 'insecure'): DexClient {
  const channel = tls === 'insecure' ? credentials.createInsecure() : credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
  const Dex = dexClientClass();
  // The server certificate names 127.0.0.1 and localhost; an IP is not a TLS server name (RFC 6066).
  const stub = new Dex(address, channel, { 'grpc.ssl_target_name_override': 'localhost' }) as Client & Record<string, (request: object, callback: (error: ServiceError | null, response: unknown) => void) => void>;
  return {
    call: <T>(rpc: string, request: object = {}) =>
      new Promise<T>((resolve, reject) => {
        stub[rpc]!.call(stub, request, (error, response) => (error ? reject(error) : resolve(response as T)));
      }),
    close: () => stub.close(),
  };
}

/** Resolves to the gRPC status code a call failed with (and its details); fails if it succeeded. */
export async function failure(promise: Promise<unknown>): Promise<{ code: status; details: string }> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught as ServiceError);
  if (!error) throw new Error('expected the call to fail');
  return { code: error.code, details: error.details };
}

export interface ApiIssuer {
  idp: TestIssuer;
  /** Every issuer audit line written so far, parsed: events with their request (origin, actor...). */
  auditLines(): Array<Record<string, unknown>>;
  api: RunningAdminApi;
  address: string;
  /** A client with the trusted client certificate. */
  admin: DexClient;
  close(): Promise<void>;
}

/** The grpc section for `certs` on an OS-picked port. */
export function grpcSection(certs: TestCertificates, extra = ''): string {
  return `grpc:\n  addr: 127.0.0.1:0\n  tlsCert: ${certs.files.serverCert}\n  tlsKey: ${certs.files.serverKey}\n  tlsClientCA: ${certs.files.ca}\n${extra}`;
}

/** A test issuer (DEFAULT_TEST_CONFIG, memory storage) with the management API over mutual TLS. */
export async function startApiIssuer(certs: TestCertificates, options: { extraConfig?: string; grpcExtra?: string } = {}): Promise<ApiIssuer> {
  const lines: string[] = [];
  const auditLog = createAuditStream([{ write: (line) => void lines.push(line) }]);
  const idp = await startTestIssuer({ configYaml: `${DEFAULT_TEST_CONFIG}${grpcSection(certs, options.grpcExtra)}${options.extraConfig ?? ''}`, auditLog });
  const api = await startAdminApi(idp.config.grpc!, { issuer: idp.issuer, version: 'test-version', logger: silentLogger() });
  const address = `127.0.0.1:${api.port}`;
  const admin = dexClient(address, { ca: certs.ca, ...certs.client });
  return {
    idp, api, address, admin,
    auditLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    async close() {
      admin.close();
      await api.close();
      await idp.close();
    },
  };
}

/**
 * Starts certificates and an API issuer before the file's tests and stops them after; read
 * `certs` and `server` inside tests (they are set once the suite has started).
 */
export function useApiIssuer(options: { extraConfig?: string; grpcExtra?: string } = {}): { readonly certs: TestCertificates; readonly server: ApiIssuer } {
  const state = {} as { certs: TestCertificates; server: ApiIssuer };
  beforeAll(async () => {
    state.certs = await makeCertificates();
    state.server = await startApiIssuer(state.certs, options);
  }, 30_000);
  afterAll(async () => {
    await state.server?.close();
    await state.certs?.remove();
  });
  return state;
}

/** A relying party for `clientId` at `issuer`, with client_secret_basic (or none for a public client). */
export function relyingParty(issuer: string, clientId: string, secret?: string): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, undefined, secret ? client.ClientSecretBasic(secret) : client.None(), { execute: [client.allowInsecureRequests] });
}

/** A whole code flow (PKCE) through `connector` as `username`, ending in the token response. */
export async function logIn(rp: client.Configuration, options: { redirectURI: string; username: string; password: string; connector?: string; scope?: string }) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: options.redirectURI, scope: options.scope ?? 'openid email offline_access', state, connector_id: options.connector ?? 'local',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await followLogin(url.toString(), { redirectURI: options.redirectURI, username: options.username, password: options.password });
  return client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state });
}

/** The connectors the login chooser offers `clientId` at `issuer`: [id, name] in page order. */
export async function chooserOptions(issuer: string, clientId: string, redirectURI: string): Promise<Array<[string, string]>> {
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: clientId, redirect_uri: redirectURI, response_type: 'code', scope: 'openid', state: 'chooser',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  }).toString();
  const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
  if (response.status !== 200) throw new Error(`the chooser answered ${response.status}`);
  const html = await response.text();
  return [...html.matchAll(/href="[^"]*\/auth\/([^"?/]+)\?req=[^"]*">Continue with ([^<]*)<\/a>/g)].map((match) => [decodeURIComponent(match[1]!), match[2]!]);
}
