/**
 * Loads the vendored Envoy ext_authz protos (proto/ at the package root) with proto-loader. The
 * directory is found relative to this module, both from src/ (vitest, tsx) and dist/src/ (built).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

const CANDIDATES = ['../../../proto/', '../../../../proto/'];

export function protoRoot(): string {
  for (const candidate of CANDIDATES) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}envoy/service/auth/v3/external_auth.proto`)) return dir;
  }
  throw new Error('ext_authz protos not found (expected proto/ at the package root)');
}

export const PROTO_OPTIONS: Options = { keepCase: true, longs: Number, enums: Number, defaults: false, oneofs: true };

export interface AuthorizationProto {
  service: ServiceDefinition;
  Client: ServiceClientConstructor;
}

let cached: AuthorizationProto | undefined;

/** envoy.service.auth.v3.Authorization: the service definition (server) and client constructor. */
export function loadAuthorizationProto(): AuthorizationProto {
  if (cached) return cached;
  const definition = loadSync('envoy/service/auth/v3/external_auth.proto', { ...PROTO_OPTIONS, includeDirs: [protoRoot()] });
  const root = loadPackageDefinition(definition) as GrpcObject;
  const Client = (((root.envoy as GrpcObject).service as GrpcObject).auth as GrpcObject).v3 as GrpcObject;
  const Authorization = Client.Authorization as ServiceClientConstructor;
  cached = { service: Authorization.service, Client: Authorization };
  return cached;
}
