/**
 * The gRPC ext_authz listener: envoy.service.auth.v3.Authorization/Check on grpc-js. A failure inside
 * the filter denies (403) rather than erroring, so a policy decision never surfaces as an Envoy error
 * (answer-check.ts: no error of one request can reach the event loop).
 */
import { Server, ServerCredentials, status, type MethodDefinition, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CheckInput } from '../check-input.js';
import { answerCheck, internalErrorResult, type CheckHandler } from './answer-check.js';
import { decodeCheckRequest } from './check-request-decoding.js';
import { checkInputFromGrpc, type CheckRequestMessage, type GrpcDecodeOptions } from './grpc-messages.js';
import { CheckResponseEncoder } from './grpc-response.js';
import { loadAuthorizationProto } from './proto.js';

export type { CheckHandler } from './answer-check.js';

/**
 * The Authorization service with Check's request read by check-request-decoding.ts (a message it
 * cannot read fails the call with INTERNAL, as proto-loader's did) and a responseSerialize that passes
 * the bytes grpc-response.ts encoded through (a message object is still serialized by proto-loader).
 */
export function checkService(service: ServiceDefinition): ServiceDefinition {
  const check = service.Check as MethodDefinition<unknown, unknown>;
  const serialize = check.responseSerialize;
  return {
    ...service,
    Check: { ...check, requestDeserialize: decodeCheckRequest, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : serialize(value)) },
  };
}

export async function startGrpcServer(address: string, handler: CheckHandler, options: GrpcDecodeOptions, logger: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const service = checkService(loadAuthorizationProto().service);
  const encoder = new CheckResponseEncoder();
  // channelz off: per-call bookkeeping nobody reads on this hot path.
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.enable_channelz': 0 });
  server.addService(service, {
    Check(call: ServerUnaryCall<CheckRequestMessage, unknown>, callback: sendUnaryData<unknown>) {
      const startedAt = process.hrtime.bigint();
      let input: CheckInput;
      try {
        input = checkInputFromGrpc(call.request, options);
      } catch (error) {
        handler.failed('grpc', 'decode', error);
        try {
          callback(null, encoder.encode(internalErrorResult()));
        } catch (failure) {
          logger.error({ err: failure }, 'cannot answer an undecodable CheckRequest');
        }
        return;
      }
      answerCheck(handler, input, startedAt, (result) => callback(null, encoder.encode(result)), () => {
        callback({ code: status.INTERNAL, details: 'ext_authz: internal error' });
      });
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
