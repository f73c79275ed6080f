/**
 * The management API listener (Dex's `grpc:` section): Dex's `api.Dex` service on grpc-js at
 * `grpc.addr`, with the transport security credentials.ts builds, and — with `reflection: true` —
 * gRPC server reflection (@grpc/reflection), behind the same mutual TLS as the API itself.
 */
import { Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import { isLoopbackAddress } from '../../config/schema.js';
import type { Issuer } from '../../issuer.js';
import { apiCredentials, type GrpcConfig } from './credentials.js';
import { dexApiHandlers } from './handlers.js';
import { loadDexApiProto } from './proto.js';

export interface RunningAdminApi {
  /** The bound port (grpc.addr may ask for port 0). */
  port: number;
  close(): Promise<void>;
}

export async function startAdminApi(config: GrpcConfig, deps: { issuer: Issuer; version: string; logger: Logger }): Promise<RunningAdminApi> {
  const logger = deps.logger.child({ component: 'admin-api' });
  const proto = loadDexApiProto();
  const { credentials, stop } = apiCredentials(config, logger);
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  server.addService(proto.service, dexApiHandlers({
    issuer: deps.issuer.context,
    refreshConnectors: () => deps.issuer.refreshConnectors(),
    version: deps.version,
    logger,
  }));
  if (config.reflection) new ReflectionService(proto.packageDefinition).addToServer(server);
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(config.addr, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
    });
  } catch (error) {
    stop();
    throw new Error(`grpc.addr: cannot listen on ${config.addr}: ${(error as Error).message}`, { cause: error });
  }
  const security = config.tlsClientCA ? 'mutual TLS' : config.tlsCert ? 'TLS without client certificates' : 'plaintext';
  if (!config.tlsClientCA && isLoopbackAddress(config.addr)) {
    logger.warn({ addr: config.addr, security }, 'management API without client certificates: every local process can change clients, passwords and connectors (set grpc.tlsClientCA)');
  }
  logger.info({ addr: config.addr, port, security, reflection: config.reflection }, 'management API listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        stop();
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
