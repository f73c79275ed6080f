/**
 * The audit trail: one JSON line per decision, written asynchronously (a buffered non-blocking stream,
 * never a synchronous write on the hot path). Lines never carry tokens: the path is logged without its
 * query string. Requests matched by AUDIT policies are marked.
 */
import { pino } from 'pino';
import type { CheckInput, CheckResult } from './check-input.js';
import { stripQuery } from './policy/normalize-path.js';

export interface AuditSink {
  write(line: string): void;
  flush?(): void;
  end?(): void;
}

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

/** stdout (fd 1) or a file, through pino's non-blocking SonicBoom stream. */
export function openAuditSink(file?: string): AuditSink {
  const stream = pino.destination({ dest: file ?? 1, sync: false, minLength: 4096, mkdir: true });
  return {
    write: (line) => void stream.write(line),
    flush: () => stream.flushSync?.(),
    end: () => stream.end(),
  };
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
