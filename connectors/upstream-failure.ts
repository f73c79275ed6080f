/**
 * One way for every upstream connector to fail a step: whatever the step throws becomes a
 * ConnectorError (upstream.ts's mapping), and an upstream that is down or answers with an error also
 * leaves the operator a log line naming the connector and the step; never a token or a code.
 */
import type { ConnectorContext } from '../src/connector.js';
import { ConnectorError } from '../src/connector.js';
import { upstreamError } from './oidc/upstream.js';

export type StepRunner = <T>(step: string, call: () => Promise<T>) => Promise<T>;

export function upstreamSteps(context: ConnectorContext, type: string): StepRunner {
  return async (step, call) => {
    try {
      return await call();
    } catch (error) {
      const refused = error instanceof ConnectorError ? error : upstreamError(error, step);
      if (refused.code === 'upstream_unavailable' || refused.code === 'upstream_error') {
        context.logger.warn({ connector: context.id, type, step, err: refused.message }, 'upstream failed');
      }
      throw refused;
    }
  };
}
