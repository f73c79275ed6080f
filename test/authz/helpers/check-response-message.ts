/**
 * The reference CheckResult -> CheckResponse mapping as a plain message object, for proto-loader's own
 * serializer: the oracle that check-response-encoding.ts's bytes are compared with.
 */
import type { CheckResult } from '../../../src/authz/check-input.js';

const GRPC_OK = 0;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

const APPEND_FALSE = { value: false };
const STATUS_OK = { code: GRPC_OK };
const TEXT_PLAIN = { header: { key: 'content-type', value: 'text/plain' }, append: APPEND_FALSE };

export function checkResponseFromResult(result: CheckResult): Record<string, unknown> {
  if (result.decision === 'allow') {
    const headers = new Array<unknown>(result.headers.length);
    for (let i = 0; i < result.headers.length; i++) headers[i] = { header: { key: result.headers[i]!.name, value: result.headers[i]!.value }, append: APPEND_FALSE };
    const response: Record<string, unknown> = {
      status: STATUS_OK,
      ok_response: { headers, headers_to_remove: result.headersToRemove, query_parameters_to_remove: result.queryParametersToRemove },
    };
    if (result.peerPrincipal || result.requestPrincipal) {
      const fields: Record<string, { stringValue: string }> = {};
      if (result.peerPrincipal) fields.peer_principal = { stringValue: result.peerPrincipal };
      if (result.requestPrincipal) fields.request_principal = { stringValue: result.requestPrincipal };
      response.dynamic_metadata = { fields };
    }
    return response;
  }
  return {
    status: { code: result.status === 401 ? GRPC_UNAUTHENTICATED : GRPC_PERMISSION_DENIED, message: result.reason },
    denied_response: {
      status: { code: result.status },
      headers: [...result.headers.map((h) => ({ header: { key: h.name, value: h.value }, append: { value: false } })), TEXT_PLAIN],
      body: result.body,
    },
  };
}
