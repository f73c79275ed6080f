/**
 * The audit trail: one JSON line per decision, written asynchronously (see telemetry/audit-sink.ts: never a
 * synchronous write on the hot path). Lines never carry tokens: the path is logged without its
 * query string and path parameters. Requests matched by AUDIT policies are marked.
 */
import { BufferedAuditSink, type AuditSink } from '../telemetry/audit-sink.js';
import type { CheckInput, CheckResult } from './check-input.js';
import { stripQuery } from './policy/normalize-path.js';

export type { AuditSink } from '../telemetry/audit-sink.js';

export interface AuditLine {
  time: string;
  type: 'authz';
  requestId: string;
  decision: CheckResult['decision'];
  status: number;
  reason: string;
  method: string;
  host: string;
  /** Without query, fragment and path parameters (auditPath). */
  path: string;
  transport: CheckInput['transport'];
  latencyUs: number;
  /** The target workload's namespace. */
  namespace?: string;
  /** The target workload's labels as the proxy named them (context_extensions / auth URL `labels`, "k=v,k2=v2"). */
  labels?: string;
  /** Why the token was refused: a JwtError code (ERR_JWT_EXPIRED, ERR_JWT_CRIT...). */
  jwtError?: string;
  policy?: string;
  rule?: number;
  peerPrincipal?: string;
  requestPrincipal?: string;
  sourceIp?: string;
  audit?: string[];
  shadow?: CheckResult['shadow'];
  /** The decision's trace, only when tracing is on (telemetry.tracing). */
  traceId?: string;
}

/** stdout (fd 1) or a file, buffered and written asynchronously. */
export function openAuditSink(file?: string): AuditSink {
  return BufferedAuditSink.open(file);
}

const q = JSON.stringify;

/** The last formatted second: the date part of an ISO timestamp changes once a second, not per line. */
const second = { epoch: NaN, prefix: '' };

/** `new Date(now).toISOString()`, reformatting the date and time only when the second changes. */
export function isoTime(now: number): string {
  const epoch = Math.floor(now / 1000);
  if (epoch !== second.epoch) {
    const iso = new Date(epoch * 1000).toISOString();
    if (iso.length !== 24) return new Date(now).toISOString(); // a year outside 0000-9999
    second.epoch = epoch;
    second.prefix = iso.slice(0, 20);
  }
  const ms = Math.floor(now) - epoch * 1000;
  return `${second.prefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/** A path parameter (`;name=value` inside a segment, as in `/a;access_token=...`), up to the next "/". */
const PATH_PARAMETER = /;[^/]*/g;

/**
 * The request path as audited: no query, no fragment and no path parameters, any of which may carry a
 * token (`?access_token=`, `;access_token=`). Only the audit line: policies match on their own path.
 */
export function auditPath(target: string): string {
  const path = stripQuery(target);
  return path.includes(';') ? path.replace(PATH_PARAMETER, '') : path;
}

/**
 * One audit line (the AuditLine shape, fields in that order) as JSON text, built as a string: every
 * string goes through JSON.stringify (requestId, host and path are the client's), so the line is
 * always valid JSON. Cheaper than stringifying an object on every decision.
 */
export function auditJson(input: CheckInput, result: CheckResult, latencyUs: number, now: number, traceId?: string): string {
  let line = `{"time":"${isoTime(now)}","type":"authz","requestId":${q(input.requestId)},"decision":"${result.decision}","status":${result.status},"reason":${q(result.reason)},"method":${q(input.method)},"host":${q(input.host)},"path":${q(auditPath(result.path ?? input.path))},"transport":"${input.transport}","latencyUs":${Math.round(latencyUs)}`;
  if (result.namespace !== undefined) line += `,"namespace":${q(result.namespace)}`;
  if (input.contextExtensions?.labels !== undefined) line += `,"labels":${q(input.contextExtensions.labels)}`;
  if (result.jwtError !== undefined) line += `,"jwtError":${q(result.jwtError)}`;
  if (result.policy !== undefined) line += `,"policy":${q(result.policy)}`;
  if (result.rule !== undefined) line += `,"rule":${q(result.rule)}`;
  if (result.peerPrincipal !== undefined) line += `,"peerPrincipal":${q(result.peerPrincipal)}`;
  if (result.requestPrincipal !== undefined) line += `,"requestPrincipal":${q(result.requestPrincipal)}`;
  if (input.sourceIp !== undefined) line += `,"sourceIp":${q(input.sourceIp)}`;
  if (result.audit) line += `,"audit":${q(result.audit)}`;
  if (result.shadow) line += `,"shadow":${q(result.shadow)}`;
  if (traceId !== undefined) line += `,"traceId":"${traceId}"`;
  return `${line}}`;
}
