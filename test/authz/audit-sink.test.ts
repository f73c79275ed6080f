/**
 * The audit sink: buffered and asynchronous on the hot path, yet every line reaches the file, in
 * order, by the time the sink is closed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditSink } from '../../src/authz/audit.js';

describe('audit sink', () => {
  it('writes every line, in order, across background flushes and the final close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idgate-audit-'));
    try {
      const file = join(dir, 'nested', 'audit.log');
      const sink = openAuditSink(file);
      for (let i = 0; i < 20_000; i++) {
        sink.write(`{"n":${i},"pad":"${'x'.repeat(20)}"}\n`);
        if (i % 3000 === 0) await new Promise((r) => setTimeout(r, 300));
      }
      sink.end?.();
      await new Promise((r) => setTimeout(r, 50));
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { n: number }).n);
      expect(lines).toHaveLength(20_000);
      expect(lines.every((n, i) => n === i)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not write before the buffer fills or the flush interval passes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idgate-audit-'));
    try {
      const file = join(dir, 'audit.log');
      const sink = openAuditSink(file);
      sink.write('{"n":1}\n');
      expect(await readFile(file, 'utf8')).toBe('');
      await new Promise((r) => setTimeout(r, 400));
      expect(await readFile(file, 'utf8')).toBe('{"n":1}\n');
      sink.end?.();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
