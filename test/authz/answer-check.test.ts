/**
 * The guarded answer every transport uses: whatever throws while deciding, responding or recording,
 * the client gets a deny (or, when even that cannot be written, the connection is dropped), the
 * failure is reported with its stage, and the process goes on serving.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckInput, CheckResult, TransportKind } from '../../src/authz/check-input.js';
import { answerCheck, type CheckHandler, type FailureStage } from '../../src/authz/transport/answer-check.js';
import { startGrpcServer } from '../../src/authz/transport/grpc-server.js';
import { startHttpServer } from '../../src/authz/transport/http-server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { ExtAuthzClient, outcomeOf } from './helpers/grpc-client.js';
import { httpCheck } from './helpers/http-client.js';

const INPUT: CheckInput = { transport: 'grpc', requestId: 'r1', method: 'GET', host: 'h', path: '/', scheme: 'http', headers: {} };
const ALLOW: CheckResult = { decision: 'allow', status: 200, reason: 'allowed', body: '', headers: [], headersToRemove: [], queryParametersToRemove: [] };

function handler(overrides: Partial<CheckHandler>, failures: Array<[TransportKind, FailureStage, string]>): CheckHandler {
  return {
    check: async () => ALLOW,
    record: () => undefined,
    failed: (transport, stage, error) => void failures.push([transport, stage, (error as Error).message]),
    ...overrides,
  };
}

/** Lets the promise chain inside answerCheck run to its end. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('answerCheck', () => {
  it('turns a check that throws (synchronously or not) into a logged internal_error deny', async () => {
    for (const check of [() => { throw new Error('sync boom'); }, async () => { throw new Error('async boom'); }]) {
      const failures: Array<[TransportKind, FailureStage, string]> = [];
      const responses: CheckResult[] = [];
      const recorded: CheckResult[] = [];
      answerCheck(handler({ check, record: (_i, r) => void recorded.push(r) }, failures), INPUT, 0n, (r) => void responses.push(r), () => undefined);
      await settle();
      expect(responses.map((r) => [r.status, r.reason])).toEqual([[403, 'internal_error']]);
      expect(recorded.map((r) => r.reason)).toEqual(['internal_error']);
      expect(failures).toEqual([['grpc', 'check', expect.stringContaining('boom')]]);
    }
  });

  it('retries a response that cannot be written with the internal_error deny, and records that', async () => {
    const failures: Array<[TransportKind, FailureStage, string]> = [];
    const written: CheckResult[] = [];
    const recorded: string[] = [];
    const respond = (r: CheckResult) => {
      if (r.decision === 'allow') throw new TypeError('Invalid character in header content ["x-idgate-groups"]');
      written.push(r);
    };
    answerCheck(handler({ record: (_i, r) => void recorded.push(r.reason) }, failures), INPUT, 0n, respond, () => undefined);
    await settle();
    expect(written.map((r) => r.reason)).toEqual(['internal_error']);
    expect(recorded).toEqual(['internal_error']);
    expect(failures).toEqual([['grpc', 'respond', expect.stringContaining('Invalid character')]]);
  });

  it('drops the connection when not even the deny can be written, and survives a recorder that throws', async () => {
    const failures: Array<[TransportKind, FailureStage, string]> = [];
    let aborted = 0;
    const record = () => { throw new Error('audit sink gone'); };
    answerCheck(handler({ record }, failures), INPUT, 0n, () => { throw new Error('socket gone'); }, () => void aborted++);
    await settle();
    expect(aborted).toBe(1);
    expect(failures.map(([, stage]) => stage)).toEqual(['respond', 'record']);
  });
});

describe('transports built on it', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('HTTP: a handler that throws answers 403 internal_error and the listener keeps serving', async () => {
    const failures: Array<[TransportKind, FailureStage, string]> = [];
    let calls = 0;
    const server = await startHttpServer({ host: '127.0.0.1', port: 0 }, handler({
      check: async () => {
        if (calls++ === 0) throw new Error('first request explodes');
        return ALLOW;
      },
    }, failures), { envoyPathPrefix: '/envoy', isTrustedProxy: () => true, numTrustedProxies: 0, xfcc: { trustedBy: new Set(), forwardClientCertDetails: 'SANITIZE' } });
    closers.push(() => server.close());
    const first = await httpCheck(server.port, 'nginx', { path: '/x' });
    expect([first.status, first.body]).toEqual([403, 'ext_authz: internal error']);
    expect(failures).toEqual([['nginx', 'check', 'first request explodes']]);
    expect((await httpCheck(server.port, 'nginx', { path: '/x' })).status).toBe(200);
  });

  it('HTTP: an identity header Node refuses to write becomes a deny, not a crash', async () => {
    const failures: Array<[TransportKind, FailureStage, string]> = [];
    const bad: CheckResult = { ...ALLOW, headers: [{ name: 'x-idgate-groups', value: 'Łukasz' }] };
    const server = await startHttpServer({ host: '127.0.0.1', port: 0 }, handler({ check: async () => bad }, failures), { envoyPathPrefix: '/envoy', isTrustedProxy: () => true, numTrustedProxies: 0, xfcc: { trustedBy: new Set(), forwardClientCertDetails: 'SANITIZE' } });
    closers.push(() => server.close());
    const outcome = await httpCheck(server.port, 'traefik', { path: '/x' });
    expect(outcome.status).toBe(403);
    expect(failures).toEqual([['traefik', 'respond', expect.stringContaining('Invalid character')]]);
    expect(http.STATUS_CODES[outcome.status]).toBe('Forbidden');
  });

  it('gRPC: a handler that throws answers a deny, and the server keeps serving', async () => {
    const failures: Array<[TransportKind, FailureStage, string]> = [];
    let calls = 0;
    const server = await startGrpcServer('127.0.0.1:0', handler({
      check: async () => {
        if (calls++ === 0) throw new Error('boom');
        return ALLOW;
      },
    }, failures), { numTrustedProxies: 0 }, silentLogger());
    closers.push(() => server.close());
    const client = new ExtAuthzClient(`127.0.0.1:${server.port}`);
    closers.push(async () => client.close());
    const first = outcomeOf(await client.check({ path: '/x' }));
    expect([first.status, first.body]).toEqual([403, 'ext_authz: internal error']);
    expect(failures).toEqual([['grpc', 'check', 'boom']]);
    expect(outcomeOf(await client.check({ path: '/x' })).status).toBe(200);
  });
});
