/**
 * The gRPC ext_authz listener: envoy.service.auth.v3.Authorization/Check on grpc-js. A failure inside
 * the filter denies (403) rather than erroring, so a policy decision never surfaces as an Envoy error.
 */
import { Server, ServerCredentials, type MethodDefinition, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CheckInput, CheckResult } from '../check-input.js';
import { checkInputFromGrpc, type CheckRequestMessage } from './grpc-messages.js';
import { CheckResponseEncoder } from './grpc-response.js';
import { loadAuthorizationProto } from './proto.js';

export interface CheckHandler {
  check(input: CheckInput): Promise<CheckResult>;
  record(input: CheckInput, result: CheckResult, startedAt: bigint): void;
}

export function internalErrorResult(): CheckResult {
  return { decision: 'deny', status: 403, reason: 'internal_error', body: 'ext_authz: internal error', headers: [], headersToRemove: [], queryParametersToRemove: [] };
}

/**
 * The Authorization service with a Check responseSerialize that passes the bytes grpc-response.ts
 * encoded through (a message object is still serialized by proto-loader).
 */
export function checkService(service: ServiceDefinition): ServiceDefinition {
  const check = service.Check as MethodDefinition<unknown, unknown>;
  const serialize = check.responseSerialize;
  return {
    ...service,
    Check: { ...check, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : serialize(value)) },
  };
}

export async function startGrpcServer(address: string, handler: CheckHandler, logger: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const service = checkService(loadAuthorizationProto().service);
  const encoder = new CheckResponseEncoder();
  // channelz off: per-call bookkeeping nobody reads on this hot path.
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.enable_channelz': 0 });
  server.addService(service, {
    Check(call: ServerUnaryCall<CheckRequestMessage, unknown>, callback: sendUnaryData<unknown>) {
      const startedAt = process.hrtime.bigint();
      let input: CheckInput;
      try {
        input = checkInputFromGrpc(call.request);
      } catch (error) {
        logger.error({ err: error }, 'cannot decode CheckRequest');
        callback(null, encoder.encode(internalErrorResult()));
        return;
      }
      handler.check(input).then(
        (result) => {
          callback(null, encoder.encode(result));
          handler.record(input, result, startedAt);
        },
        (error: unknown) => {
          logger.error({ err: error, requestId: input.requestId }, 'check failed');
          const result = internalErrorResult();
          callback(null, encoder.encode(result));
          handler.record(input, result, startedAt);
        },
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
