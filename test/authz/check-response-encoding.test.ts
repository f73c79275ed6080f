/**
 * The hand-written CheckResponse encoder writes exactly the bytes proto-loader's serializer (protobufjs
 * fromObject + encode) writes for the reference message, for every shape of result: allow with and
 * without identity, dynamic metadata or removals; 401 and 403 denials; multi-byte lengths and UTF-8.
 */
import { describe, expect, it } from 'vitest';
import type { MethodDefinition } from '@grpc/grpc-js';
import type { CheckResult } from '../../src/authz/check-input.js';
import { internalErrorResult } from '../../src/authz/transport/answer-check.js';
import { encodeCheckResponse } from '../../src/authz/transport/check-response-encoding.js';
import { loadAuthorizationProto } from '../../src/authz/transport/proto.js';
import { checkResponseFromResult } from './helpers/check-response-message.js';

const serialize = (loadAuthorizationProto().service.Check as MethodDefinition<unknown, unknown>).responseSerialize;
const base: CheckResult = { decision: 'allow', status: 200, reason: 'allowed', body: '', headers: [], headersToRemove: [], queryParametersToRemove: [] };
const long = 'v'.repeat(200);
const huge = 'h'.repeat(20_000);

const cases: Array<[string, CheckResult]> = [
  ['allow, anonymous, nothing to set', base],
  ['allow with identity headers, token removed, dynamic metadata', {
    ...base, headers: [{ name: 'x-idgate-request-principal', value: 'https://iss/alice' }, { name: 'x-idgate-groups', value: 'staff,users' }],
    headersToRemove: ['authorization', 'x-idgate-role'], requestPrincipal: 'https://iss/alice', peerPrincipal: 'cluster.local/ns/a/sa/b', policy: 'ns/p', rule: 3,
  }],
  ['allow with a token from the query and only a peer', { ...base, queryParametersToRemove: ['access_token'], peerPrincipal: 'td/ns/x/sa/y' }],
  ['allow with only a request principal and empty strings', { ...base, headers: [{ name: 'x-empty', value: '' }], requestPrincipal: 'i/s', peerPrincipal: '' }],
  ['allow with UTF-8 and multi-byte lengths', { ...base, headers: [{ name: 'x-name', value: 'Zoë ✓ 😀' }, { name: 'x-long', value: long }, { name: 'x-huge', value: huge }], requestPrincipal: `i/${long}` }],
  ['403 with insufficient_scope', { ...base, decision: 'deny', status: 403, reason: 'no_allow_match', body: 'RBAC: access denied', headers: [{ name: 'www-authenticate', value: 'Bearer realm="https://a/b", error="insufficient_scope"' }] }],
  ['401 invalid token', { ...base, decision: 'deny', status: 401, reason: 'jwt_invalid', body: 'Jwt is expired', headers: [{ name: 'www-authenticate', value: `Bearer realm="https://a/${long}", error="invalid_token"` }] }],
  ['403 without headers or body', { ...base, decision: 'deny', status: 403, reason: '', body: '' }],
  ['internal error', internalErrorResult()],
];

describe('CheckResponse encoding', () => {
  it.each(cases)('%s: the same bytes as protobufjs', (_name, result) => {
    expect(encodeCheckResponse(result).equals(Buffer.from(serialize(checkResponseFromResult(result))))).toBe(true);
  });
});
