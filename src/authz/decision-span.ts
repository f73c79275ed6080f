/**
 * The filter decision's span, when tracing is on: a child of the trace context the proxy sent in the
 * request's own headers (`traceparent`), current while the request is decided and answered (so log
 * lines name the trace), ended with what was decided. Its attributes say how the request was decided
 * and by which policy and rule; they never carry a header value, a token or a path.
 */
import type { CheckInput, CheckResult } from './check-input.js';
import { SpanKind, setHttpStatus, type Tracing } from '../telemetry/tracing.js';

export interface DecisionTrace {
  /** The trace the decision belongs to (the audit line's traceId). */
  traceId: string;
  /** Ends the span with the decision's attributes. */
  end(result: CheckResult): void;
}

export interface DecisionTracer {
  /** Runs `answer` with the decision's span current. */
  run(input: CheckInput, answer: (trace: DecisionTrace) => void): void;
}

export function decisionTracer(tracing: Tracing): DecisionTracer {
  return {
    run(input, answer) {
      const parent = tracing.extract(input.headers);
      const span = tracing.startSpan('ext_authz check', { kind: SpanKind.SERVER, attributes: { 'authz.transport': input.transport } }, parent);
      const trace: DecisionTrace = {
        traceId: span.spanContext().traceId,
        end(result) {
          span.setAttribute('authz.decision', result.decision);
          span.setAttribute('authz.reason', result.reason);
          if (result.policy !== undefined) span.setAttribute('authz.policy', result.policy);
          if (result.rule !== undefined) span.setAttribute('authz.rule', result.rule);
          if (result.namespace !== undefined) span.setAttribute('authz.namespace', result.namespace);
          setHttpStatus(span, result.status);
          span.end();
        },
      };
      tracing.withSpan(span, () => answer(trace), parent);
    },
  };
}
