/**
 * The filter's revocation deny-list: sid and jti entries until their expiry, duplicates and late
 * expiries from an at-least-once feed, pruning; and the feed chosen for each storage type.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRevocationFeed, RevocationList, startFilterRevocations, startRevocationList } from '../../src/authz/revocations.js';
import { manualClock } from '../../src/clock.js';
import { openStorage } from '../../src/storage/open.js';
import type { RevocationFeed } from '../../src/storage/revocation-feed.js';
import type { Revocation, Storage } from '../../src/storage/storage.js';

const clock = manualClock(Date.UTC(2026, 0, 1));
const revocation = (kind: 'sid' | 'jti', value: string, expiresAt: number): Revocation => ({
  id: `${kind}:${value}`, kind, value, createdAt: clock(), expiresAt,
});

describe('RevocationList', () => {
  it('denies a revoked sid and a revoked jti, and nothing else', () => {
    const list = new RevocationList(clock);
    list.add(revocation('sid', 's1', clock() + 60_000));
    list.add(revocation('jti', 'j1', clock() + 60_000));
    expect(list.isRevoked('s1', 'other')).toBe(true);
    expect(list.isRevoked('other', 'j1')).toBe(true);
    expect(list.isRevoked(undefined, 'j1')).toBe(true);
    expect(list.isRevoked('j1', 's1')).toBe(false); // a sid is never matched as a jti, nor the reverse
    expect(list.isRevoked('s2', undefined)).toBe(false);
    expect(list.isRevoked(undefined, undefined)).toBe(false);
  });

  it('forgets an entry once the revoked tokens have expired', () => {
    const list = new RevocationList(clock);
    list.add(revocation('sid', 's1', clock() + 1_000));
    clock.advance(1_000);
    expect(list.isRevoked('s1', undefined)).toBe(false);
    expect(list.prune()).toBe(1);
    expect(list.size).toBe(0);
  });

  it('ignores a revocation that has already expired', () => {
    const list = new RevocationList(clock);
    list.add(revocation('jti', 'j-old', clock() - 1));
    expect(list.size).toBe(0);
  });

  it('keeps the later expiry when the same revocation arrives twice', () => {
    const list = new RevocationList(clock);
    list.add(revocation('sid', 's1', clock() + 10_000));
    list.add(revocation('sid', 's1', clock() + 1_000));
    clock.advance(5_000);
    expect(list.isRevoked('s1', undefined)).toBe(true);
    expect(list.size).toBe(1);
  });
});

describe('startRevocationList', () => {
  it('is live when it resolves: what the feed held at start is already denied; later deliveries too', async () => {
    let deliver: (revocation: Revocation) => void = () => undefined;
    let closed = false;
    const feed: RevocationFeed = {
      async start(onRevoked) {
        deliver = onRevoked;
        onRevoked(revocation('sid', 'before', clock() + 60_000));
      },
      async close() {
        closed = true;
      },
    };
    const running = await startRevocationList(feed, { now: clock });
    expect(running.list.isRevoked('before', undefined)).toBe(true);
    deliver(revocation('jti', 'after', clock() + 60_000));
    expect(running.list.isRevoked(undefined, 'after')).toBe(true);
    await running.close();
    expect(closed).toBe(true);
  });
});

describe('openRevocationFeed', () => {
  let dir: string;
  let storage: Storage;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'idgate-revocations-'));
    storage = await openStorage({ type: 'sqlite3', config: { file: path.join(dir, 'idgate.db') } });
  });
  afterAll(async () => {
    await storage?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has no feed for memory storage the filter does not share with an issuer', async () => {
    const memory = await openStorage({ type: 'memory' });
    expect(await openRevocationFeed({ type: 'memory' }, memory, { sharedWithIssuer: false })).toBeUndefined();
    await memory.close();
  });

  it('polls SQLite: a revocation written by another storage handle is denied within a second', async () => {
    const feed = await openRevocationFeed({ type: 'sqlite3', config: { file: path.join(dir, 'idgate.db') } }, storage, {
      sharedWithIssuer: false,
      pollIntervalMs: 200,
    });
    const running = await startRevocationList(feed!);
    const writer = await openStorage({ type: 'sqlite3', config: { file: path.join(dir, 'idgate.db') } });
    try {
      const started = Date.now();
      await writer.revocations.create({ id: 'sid:polled', kind: 'sid', value: 'polled', createdAt: started, expiresAt: started + 60_000 });
      while (!running.list.isRevoked('polled', undefined) && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 10));
      const elapsed = Date.now() - started;
      console.log(`sqlite polling feed: revocation in the deny-list after ${elapsed} ms`);
      expect(running.list.isRevoked('polled', undefined)).toBe(true);
      expect(elapsed).toBeLessThan(1_000);
    } finally {
      await writer.close();
      await running.close();
    }
  });
});

describe('startFilterRevocations', () => {
  it('starts nothing for a filter alone on memory storage', async () => {
    expect(await startFilterRevocations({ type: 'memory' }, {})).toBeUndefined();
  });

  it('follows the issuer\'s memory storage when the issuer shares the process', async () => {
    const storage = await openStorage({ type: 'memory' });
    const running = await startFilterRevocations({ type: 'memory' }, { issuerStorage: storage });
    await storage.revocations.create({ id: 'jti:shared', kind: 'jti', value: 'shared', createdAt: Date.now(), expiresAt: Date.now() + 60_000 });
    const started = Date.now();
    while (!running!.list.isRevoked(undefined, 'shared') && Date.now() - started < 2_000) await new Promise((r) => setTimeout(r, 10));
    expect(running!.list.isRevoked(undefined, 'shared')).toBe(true);
    await running!.close();
    await storage.close();
  });

  it('opens the storage itself for a filter without an issuer, and sees what was revoked before it started', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'idgate-filter-revocations-'));
    const config = { type: 'sqlite3' as const, config: { file: path.join(dir, 'shared.db') } };
    const writer = await openStorage(config);
    await writer.revocations.create({ id: 'sid:earlier', kind: 'sid', value: 'earlier', createdAt: Date.now(), expiresAt: Date.now() + 60_000 });
    try {
      const running = await startFilterRevocations(config, {});
      expect(running!.list.isRevoked('earlier', undefined)).toBe(true);
      await running!.close();
    } finally {
      await writer.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
