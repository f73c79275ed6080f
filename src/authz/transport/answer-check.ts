/**
 * The one way a transport answers a request, shared by gRPC and HTTP: decide, respond, record. No error
 * at any stage can escape into the event loop (where it would end the process, issuer included): a
 * failure to decide becomes a 403 `internal_error`, a failure to write the response is retried once
 * with that deny and otherwise drops the connection, and every failure is logged with its stage and
 * counted (idgate_filter_internal_errors_total{transport,stage}).
 */
import type { CheckInput, CheckResult, TransportKind } from '../check-input.js';
import type { DecisionTrace, DecisionTracer } from '../decision-span.js';

export type FailureStage = 'decode' | 'check' | 'respond' | 'record';

export interface CheckHandler {
  check(input: CheckInput): Promise<CheckResult>;
  /** `trace` is the decision's span when tracing is on (record ends it). */
  record(input: CheckInput, result: CheckResult, startedAt: bigint, trace?: DecisionTrace): void;
  /** Logs and counts an unexpected error; must not throw. */
  failed(transport: TransportKind, stage: FailureStage, error: unknown, requestId?: string): void;
  /** Present only when tracing is on: each request is then answered inside its decision's span. */
  tracer?: DecisionTracer;
}

export function internalErrorResult(): CheckResult {
  return { decision: 'deny', status: 403, reason: 'internal_error', body: 'ext_authz: internal error', headers: [], headersToRemove: [], queryParametersToRemove: [] };
}

/**
 * `respond` writes the result on the transport (it may throw); `abort` gives up on the request without
 * an answer (the proxy then applies its failure mode, which fails closed by default).
 */
export function answerCheck(handler: CheckHandler, input: CheckInput, startedAt: bigint, respond: (result: CheckResult) => void, abort: () => void): void {
  if (handler.tracer === undefined) answer(handler, input, startedAt, respond, abort, undefined);
  else handler.tracer.run(input, (trace) => answer(handler, input, startedAt, respond, abort, trace));
}

function answer(handler: CheckHandler, input: CheckInput, startedAt: bigint, respond: (result: CheckResult) => void, abort: () => void, trace: DecisionTrace | undefined): void {
  let decided: Promise<CheckResult>;
  try {
    decided = handler.check(input);
  } catch (error) {
    decided = Promise.reject(error);
  }
  decided
    .catch((error: unknown) => {
      handler.failed(input.transport, 'check', error, input.requestId);
      return internalErrorResult();
    })
    .then((result) => deliver(handler, input, startedAt, result, respond, abort, trace))
    .catch((error: unknown) => {
      // deliver() catches everything itself; this is the last line, so a bug there cannot escape either.
      handler.failed(input.transport, 'respond', error, input.requestId);
      safely(abort);
    });
}

function deliver(handler: CheckHandler, input: CheckInput, startedAt: bigint, decided: CheckResult, respond: (result: CheckResult) => void, abort: () => void, trace: DecisionTrace | undefined): void {
  let result = decided;
  try {
    respond(result);
  } catch (error) {
    handler.failed(input.transport, 'respond', error, input.requestId);
    result = internalErrorResult();
    try {
      respond(result);
    } catch {
      safely(abort);
    }
  }
  try {
    handler.record(input, result, startedAt, trace);
  } catch (error) {
    handler.failed(input.transport, 'record', error, input.requestId);
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // nothing left to do: the connection is already unusable
  }
}
