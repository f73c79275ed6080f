/**
 * The filter's revocation deny-list: sid, jti, grant and subject entries until their expiry, duplicates
 * and late expiries from an at-least-once feed, pruning; and the feed chosen for each storage type.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRevocationFeed, RevocationList, startFilterRevocations, startRevocationList } from '../../src/authz/revocations.js';
import { manualClock } from '../../src/clock.js';
import { openStorage, type StorageConfig } from '../../src/storage/open.js';
import { dropSchema, randomSchemaName, requirePostgres, testConfig } from '../storage/postgres-helpers.js';
import type { RevocationFeed } from '../../src/storage/revocation-feed.js';
import { grantKey, subjectKey, type Revocation, type Storage } from '../../src/storage/storage.js';

const clock = manualClock(Date.UTC(2026, 0, 1));
const revocation = (kind: 'sid' | 'jti', value: string, expiresAt: number): Revocation => ({
  id: `${kind}:${value}`, kind, value, createdAt: clock(), expiresAt,
});

describe('RevocationList', () => {
  it('denies a revoked sid and a revoked jti, and nothing else', () => {
    const list = new RevocationList(clock);
    list.add(revocation('sid', 's1', clock() + 60_000));
    list.add(revocation('jti', 'j1', clock() + 60_000));
    expect(list.isRevoked({ sid: 's1', jti: 'other' })).toBe(true);
    expect(list.isRevoked({ sid: 'other', jti: 'j1' })).toBe(true);
    expect(list.isRevoked({ jti: 'j1' })).toBe(true);
    expect(list.isRevoked({ sid: 'j1', jti: 's1' })).toBe(false); // a sid is never matched as a jti, nor the reverse
    expect(list.isRevoked({ sid: 's2' })).toBe(false);
    expect(list.isRevoked({})).toBe(false);
  });

  it('forgets an entry once the revoked tokens have expired', () => {
    const list = new RevocationList(clock);
    list.add(revocation('sid', 's1', clock() + 1_000));
    clock.advance(1_000);
    expect(list.isRevoked({ sid: 's1' })).toBe(false);
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
    expect(list.isRevoked({ sid: 's1' })).toBe(true);
    expect(list.size).toBe(1);
  });
});

describe('RevocationList: refresh-token families (grant tags)', () => {
  const ISS = 'https://idgate.example/dex';
  const TAG = 'Kq3vH1m0qD0yJx2b8Zk4uA';
  const grant = (issuer = ISS, tag = TAG): Revocation => ({
    id: `grant:${grantKey(issuer, tag)}`, kind: 'grant', value: grantKey(issuer, tag), createdAt: clock(), expiresAt: clock() + 60_000,
  });

  it('denies every token whose jti carries the revoked tag at its issuer, whenever it was issued', () => {
    const list = new RevocationList(clock);
    list.add(grant());
    for (const random of ['a', 'AAAAAAAAAAAAAAAAAAAAAA', 'x.y']) expect(list.isRevoked({ iss: ISS, jti: `${TAG}.${random}` })).toBe(true);
    expect(list.isRevoked({ iss: ISS, jti: `${TAG}.later`, iat: Math.floor(clock() / 1000) + 600 })).toBe(true);
  });

  it('does not match the tag at another issuer, without an issuer, elsewhere in the jti, or as a sid or sub', () => {
    const list = new RevocationList(clock);
    list.add(grant());
    expect(list.isRevoked({ iss: 'https://other.example', jti: `${TAG}.a` })).toBe(false);
    expect(list.isRevoked({ jti: `${TAG}.a` })).toBe(false);
    expect(list.isRevoked({ iss: ISS, jti: TAG })).toBe(false); // no '.': a plain jti has no tag
    expect(list.isRevoked({ iss: ISS, jti: `.${TAG}` })).toBe(false);
    expect(list.isRevoked({ iss: ISS, jti: `x${TAG}.a` })).toBe(false);
    expect(list.isRevoked({ iss: ISS, jti: `other.${TAG}` })).toBe(false);
    expect(list.isRevoked({ iss: ISS, sid: TAG, sub: TAG })).toBe(false);
  });

  it('forgets the family once its tokens have expired', () => {
    const list = new RevocationList(clock);
    list.add(grant());
    clock.advance(60_000);
    expect(list.isRevoked({ iss: ISS, jti: `${TAG}.a` })).toBe(false);
    expect(list.prune()).toBe(1);
  });
});

describe('RevocationList: subjects', () => {
  const ISS = 'https://idgate.example/dex';
  const subject = (createdAt: number): Revocation => ({
    id: `sub:${subjectKey(ISS, 'alice-sub')}`, kind: 'sub', value: subjectKey(ISS, 'alice-sub'), createdAt, expiresAt: createdAt + 60_000,
  });
  const seconds = (ms: number) => Math.floor(ms / 1000);

  it('denies the tokens of the subject issued up to the revocation, and not the ones issued after', () => {
    const list = new RevocationList(clock);
    const revokedAt = clock();
    list.add(subject(revokedAt));
    expect(list.isRevoked({ iss: ISS, sub: 'alice-sub', iat: seconds(revokedAt) - 30 })).toBe(true);
    // iat has whole seconds: a token of the revocation's own second cannot show it came after.
    expect(list.isRevoked({ iss: ISS, sub: 'alice-sub', iat: seconds(revokedAt) })).toBe(true);
    expect(list.isRevoked({ iss: ISS, sub: 'alice-sub', iat: seconds(revokedAt) + 1 })).toBe(false);
    expect(list.isRevoked({ iss: ISS, sub: 'alice-sub' })).toBe(true); // no iat: cannot show it is newer
  });

  it('matches the subject only at its own issuer, and never as a sid or jti', () => {
    const list = new RevocationList(clock);
    list.add(subject(clock()));
    const iat = seconds(clock()) - 1;
    expect(list.isRevoked({ iss: 'https://other.example', sub: 'alice-sub', iat })).toBe(false);
    expect(list.isRevoked({ iss: ISS, sub: 'bob-sub', iat })).toBe(false);
    expect(list.isRevoked({ sid: subjectKey(ISS, 'alice-sub'), jti: 'alice-sub', iat })).toBe(false);
  });

  it('moves the instant forward when the subject is revoked again, and never back', () => {
    const list = new RevocationList(clock);
    const first = clock();
    list.add(subject(first));
    list.add(subject(first + 10_000));
    expect(list.isRevoked({ iss: ISS, sub: 'alice-sub', iat: seconds(first) + 5 })).toBe(true);
    list.add(subject(first)); // a late duplicate of the first revocation
    expect(list.isRevoked({ iss: ISS, sub: 'alice-sub', iat: seconds(first) + 5 })).toBe(true);
    expect(list.size).toBe(1);
  });

  it('forgets the subject once the tokens it revoked have expired', () => {
    const list = new RevocationList(clock);
    list.add(subject(clock()));
    const iat = seconds(clock());
    clock.advance(60_000);
    expect(list.isRevoked({ iss: ISS, sub: 'alice-sub', iat })).toBe(false);
    expect(list.prune()).toBe(1);
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
    expect(running.list.isRevoked({ sid: 'before' })).toBe(true);
    deliver(revocation('jti', 'after', clock() + 60_000));
    expect(running.list.isRevoked({ jti: 'after' })).toBe(true);
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
      while (!running.list.isRevoked({ sid: 'polled' }) && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 10));
      const elapsed = Date.now() - started;
      console.log(`sqlite polling feed: revocation in the deny-list after ${elapsed} ms`);
      expect(running.list.isRevoked({ sid: 'polled' })).toBe(true);
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
    while (!running!.list.isRevoked({ jti: 'shared' }) && Date.now() - started < 2_000) await new Promise((r) => setTimeout(r, 10));
    expect(running!.list.isRevoked({ jti: 'shared' })).toBe(true);
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
      expect(running!.list.isRevoked({ sid: 'earlier' })).toBe(true);
      await running!.close();
    } finally {
      await writer.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A subject revoked again is an update of its record (a later instant), not a new record: both feeds
 * must deliver updates, or a filter would keep the first instant and allow tokens issued in between.
 */
describe('a subject revoked again reaches the deny-list through the feed', () => {
  const ISS = 'https://idgate.example/dex';
  const value = subjectKey(ISS, 'carol-sub');

  async function expectUpdateDelivered(storageConfig: StorageConfig, writer: Storage): Promise<void> {
    const feed = await openRevocationFeed(storageConfig, writer, { sharedWithIssuer: false, pollIntervalMs: 100 });
    const running = await startRevocationList(feed!);
    try {
      const first = Date.now() - 60_000;
      await writer.revocations.create({ id: `sub:${value}`, kind: 'sub', value, createdAt: first, expiresAt: Date.now() + 60_000 });
      const between = { iss: ISS, sub: 'carol-sub', iat: Math.floor(first / 1000) + 30 };
      const deadline = Date.now() + 5_000;
      while (!running.list.isRevoked({ iss: ISS, sub: 'carol-sub', iat: 0 }) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(running.list.isRevoked(between)).toBe(false); // issued after the first revocation
      await writer.revocations.update(`sub:${value}`, (current) => ({ ...current, createdAt: Date.now() }));
      while (!running.list.isRevoked(between) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(running.list.isRevoked(between)).toBe(true);
    } finally {
      await running.close();
    }
  }

  it('on SQLite (polling)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'idgate-subject-feed-'));
    const config: StorageConfig = { type: 'sqlite3', config: { file: path.join(dir, 'idgate.db') } };
    const writer = await openStorage(config);
    try {
      await expectUpdateDelivered(config, writer);
    } finally {
      await writer.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('on PostgreSQL (LISTEN/NOTIFY)', async () => {
    await requirePostgres();
    const schema = randomSchemaName();
    const config: StorageConfig = { type: 'postgres', config: testConfig(schema) };
    const writer = await openStorage(config);
    try {
      await expectUpdateDelivered(config, writer);
    } finally {
      await writer.close();
      await dropSchema(schema);
    }
  });
});
