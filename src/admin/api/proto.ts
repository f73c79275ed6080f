/**
 * Loads Dex's API (proto/dex/api.proto, package `api`, service `Dex`) with proto-loader, from the same
 * proto/ directory and with the same options as the ext_authz protos: field names as on the wire
 * (snake_case), 64-bit integers as numbers, no defaults filled in (so an absent field reads undefined).
 */
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { PROTO_OPTIONS, protoRoot } from '../../authz/transport/proto.js';

export interface DexApiProto {
  /** For grpc-js's addService. */
  service: ServiceDefinition;
  /** For the reflection service, which describes what the server serves. */
  packageDefinition: PackageDefinition;
}

let cached: DexApiProto | undefined;

export function loadDexApiProto(): DexApiProto {
  if (cached) return cached;
  const packageDefinition = loadSync('dex/api.proto', { ...PROTO_OPTIONS, includeDirs: [protoRoot()] });
  const api = loadPackageDefinition(packageDefinition).api as GrpcObject;
  cached = { service: (api.Dex as ServiceClientConstructor).service, packageDefinition };
  return cached;
}
