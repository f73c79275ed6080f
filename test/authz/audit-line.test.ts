/**
 * The audit line is built as a string (audit.ts): every line must still be one valid JSON object with
 * every field of AuditLine, in order, whatever the client put in the request id, host or path; and the
 * path never echoes a query, fragment or path parameter (any may hold a token).
 */
import { describe, expect, it } from 'vitest';
import { auditJson, isoTime } from '../../src/authz/audit.js';
import type { CheckInput, CheckResult } from '../../src/authz/check-input.js';

const input: CheckInput = { transport: 'grpc', requestId: 'rid-1', method: 'GET', host: 'app.example.com', path: '/a/b?token=secret', scheme: 'https', headers: {} };
const allow: CheckResult = { decision: 'allow', status: 200, reason: 'allowed', body: '', headers: [], headersToRemove: [], queryParametersToRemove: [] };

describe('audit line', () => {
  it('carries the required fields in order, the path without its query', () => {
    const line = auditJson(input, allow, 93.6, Date.UTC(2026, 10, 23, 8, 5, 7, 42));
    expect(Object.entries(JSON.parse(line) as object)).toEqual([
      ['time', '2026-11-23T08:05:07.042Z'], ['type', 'authz'], ['requestId', 'rid-1'], ['decision', 'allow'], ['status', 200],
      ['reason', 'allowed'], ['method', 'GET'], ['host', 'app.example.com'], ['path', '/a/b'], ['transport', 'grpc'], ['latencyUs', 94],
    ]);
  });

  it('adds every optional field when present', () => {
    const result: CheckResult = {
      ...allow, namespace: 'shop', jwtError: 'ERR_JWT_EXPIRED', policy: 'ns/web', rule: 0, peerPrincipal: 'cluster.local/ns/a/sa/b', requestPrincipal: 'https://iss/alice',
      audit: ['ns/audit-all'], shadow: { decision: 'deny', policy: 'ns/dry' },
    };
    expect(JSON.parse(auditJson({ ...input, sourceIp: '10.0.0.7' }, result, 5, 0))).toEqual({
      time: '1970-01-01T00:00:00.000Z', type: 'authz', requestId: 'rid-1', decision: 'allow', status: 200, reason: 'allowed', method: 'GET',
      host: 'app.example.com', path: '/a/b', transport: 'grpc', latencyUs: 5, namespace: 'shop', jwtError: 'ERR_JWT_EXPIRED', policy: 'ns/web', rule: 0, peerPrincipal: 'cluster.local/ns/a/sa/b',
      requestPrincipal: 'https://iss/alice', sourceIp: '10.0.0.7', audit: ['ns/audit-all'], shadow: { decision: 'deny', policy: 'ns/dry' },
    });
  });

  it('names the target workload\'s labels when the proxy gave them', () => {
    const line = JSON.parse(auditJson({ ...input, contextExtensions: { namespace: 'shop', labels: 'app=web,version=v1' } }, { ...allow, namespace: 'shop' }, 1, 0)) as Record<string, unknown>;
    expect(line).toMatchObject({ namespace: 'shop', labels: 'app=web,version=v1' });
    expect(Object.keys(JSON.parse(auditJson(input, { ...allow, namespace: 'shop' }, 1, 0)) as object)).not.toContain('labels');
  });

  it('writes the optional fields in the order of AuditLine, namespace and jwtError first', () => {
    const result: CheckResult = { ...allow, decision: 'deny', status: 401, reason: 'jwt_invalid', namespace: 'shop', jwtError: 'ERR_JWT_CRIT', peerPrincipal: 'p' };
    expect(Object.keys(JSON.parse(auditJson(input, result, 1, 0)) as object).slice(11)).toEqual(['namespace', 'jwtError', 'peerPrincipal']);
  });

  it.each([
    ['/a;access_token=eyJ.x.y/b', '/a/b'],
    ['/a/b;jsessionid=SECRET', '/a/b'],
    ['/a;x=1;y=2/b;z/c?access_token=SECRET', '/a/b/c'],
    ['/;access_token=SECRET', '/'],
    ['/a/b#frag;x', '/a/b'],
    ['/plain/path', '/plain/path'],
  ])('audits %s as %s: no query, fragment or path parameters', (path, audited) => {
    const line = auditJson({ ...input, path }, allow, 1, 0);
    expect((JSON.parse(line) as { path: string }).path).toBe(audited);
    expect(line).not.toContain('SECRET');
  });

  it('stays one valid JSON line whatever the client sent', () => {
    const hostile = ['"}\n{"decision":"allow', 'a\\b', '\u0000\u001f\u2028\u2029', '\ud800', 'ünïcødé ✓', '</script>'];
    for (const text of hostile) {
      const line = auditJson({ ...input, requestId: text, host: text, method: text, path: `/${text}`, sourceIp: text }, { ...allow, policy: text, requestPrincipal: text, namespace: text, jwtError: text }, 1, 1);
      expect(line).not.toContain('\n');
      expect(JSON.parse(line)).toMatchObject({ requestId: text, host: text, method: text, path: `/${text}`, sourceIp: text, policy: text, requestPrincipal: text, namespace: text, jwtError: text });
    }
  });
});

describe('isoTime', () => {
  it('equals Date#toISOString, across second boundaries and odd instants', () => {
    const instants = [0, 1, 999, 1000, 1001, 59_999, 1_795_000_000_000, 1_795_000_000_999, 1_795_000_001_000, 1_795_000_000_500.7, -1, -1500, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001];
    for (const now of instants) expect(isoTime(now)).toBe(new Date(now).toISOString());
    for (let now = 1_795_000_000_000; now < 1_795_000_003_000; now += 7) expect(isoTime(now)).toBe(new Date(now).toISOString());
  });
});
