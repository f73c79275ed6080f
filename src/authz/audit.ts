/**
 * The audit trail: one JSON line per decision, written asynchronously (see audit-sink.ts: never a
 * synchronous write on the hot path). Lines never carry tokens: the path is logged without its
 * query string. Requests matched by AUDIT policies are marked.
 */
import { BufferedAuditSink, type AuditSink } from './audit-sink.js';
import type { CheckInput, CheckResult } from './check-input.js';
import { stripQuery } from './policy/normalize-path.js';

export type { AuditSink } from './audit-sink.js';

export interface AuditLine {
  time: string;
  type: 'authz';
  requestId: string;
  decision: CheckResult['decision'];
  status: number;
  reason: string;
  policy?: string;
  rule?: number;
  peerPrincipal?: string;
  requestPrincipal?: string;
  method: string;
  host: string;
  path: string;
  sourceIp?: string;
  transport: CheckInput['transport'];
  latencyUs: number;
  audit?: string[];
  shadow?: CheckResult['shadow'];
}

/** stdout (fd 1) or a file, buffered and written asynchronously. */
export function openAuditSink(file?: string): AuditSink {
  return BufferedAuditSink.open(file);
}

export function auditLine(input: CheckInput, result: CheckResult, latencyUs: number, now: number): AuditLine {
  const line: AuditLine = {
    time: new Date(now).toISOString(),
    type: 'authz',
    requestId: input.requestId,
    decision: result.decision,
    status: result.status,
    reason: result.reason,
    method: input.method,
    host: input.host,
    path: stripQuery(input.path),
    transport: input.transport,
    latencyUs: Math.round(latencyUs),
  };
  if (result.policy !== undefined) line.policy = result.policy;
  if (result.rule !== undefined) line.rule = result.rule;
  if (result.peerPrincipal !== undefined) line.peerPrincipal = result.peerPrincipal;
  if (result.requestPrincipal !== undefined) line.requestPrincipal = result.requestPrincipal;
  if (input.sourceIp !== undefined) line.sourceIp = input.sourceIp;
  if (result.audit) line.audit = result.audit;
  if (result.shadow) line.shadow = result.shadow;
  return line;
}
