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
      // No waiting beyond end(): its promise means every line is in the file.
      await sink.end?.();
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { n: number }).n);
      expect(lines).toHaveLength(20_000);
      expect(lines.every((n, i) => n === i)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps every line when closed while a background write is in flight', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idgate-audit-'));
    try {
      const file = join(dir, 'audit.log');
      const sink = openAuditSink(file);
      // Past 64 KiB a background write starts at once; end() is called before it can complete.
      for (let i = 0; i < 5_000; i++) sink.write(`{"n":${i},"pad":"${'y'.repeat(40)}"}\n`);
      await sink.end?.();
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { n: number }).n);
      expect(lines).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
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
      await sink.end?.();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
