/**
 * The storage conformance suite: every backend passes this, and a backend is added by passing it, not by
 * writing new tests. A backend's test file hands over a factory that builds a fresh, empty `Storage` on
 * the clock the suite controls, so expiry is tested by moving the clock, never by sleeping.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { withStatic } from '../../src/storage/static.js';
import { StorageError, type Collection, type Storage } from '../../src/storage/storage.js';
import { HOUR, KIND_FIXTURES, authCode, authRequest, client, connector, consent, deviceRequest, loginSession, password, refreshToken, revocation } from './fixtures.js';

export type ManualClock = ReturnType<typeof manualClock>;

/** What a backend's factory returns: a fresh, empty storage reading time from `now`, and how to dispose of it. */
export interface StorageUnderTest {
  storage: Storage;
  /** Runs after the storage was closed (e.g. removes a temp file); optional. */
  cleanup?: () => Promise<void>;
}

export type MakeStorage = (now: () => number) => Promise<StorageUnderTest>;

/** Asserts that `promise` rejects with a StorageError carrying `code`. */
export async function expectStorageError(promise: Promise<unknown>, code: StorageError['code']): Promise<void> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error, `expected a StorageError with code ${code}`).toBeInstanceOf(StorageError);
  expect((error as StorageError).code).toBe(code);
}

type AnyCollection = Collection<{ id: string; [field: string]: unknown }>;

export function runStorageConformance(name: string, makeStorage: MakeStorage): void {
  describe(`storage conformance: ${name}`, () => {
    let clock: ManualClock;
    let storage: Storage;
    let cleanup: (() => Promise<void>) | undefined;
    const collection = (kind: (typeof KIND_FIXTURES)[number]['kind']) => storage[kind] as unknown as AnyCollection;

    beforeEach(async () => {
      clock = manualClock();
      ({ storage, cleanup } = await makeStorage(clock));
    });

    afterEach(async () => {
      await storage.close();
      await cleanup?.();
    });

    describe.each(KIND_FIXTURES)('Collection CRUD: $kind', ({ kind, make, change }) => {
      it('round-trips every field through create, get and list', async () => {
        const record = make(clock());
        await collection(kind).create(record);
        expect(await collection(kind).get(record.id)).toEqual(record);
        expect(await collection(kind).list()).toEqual([record]);
      });

      it('refuses a second record with the same ID (already_exists) and keeps the first', async () => {
        const record = make(clock());
        await collection(kind).create(record);
        await expectStorageError(collection(kind).create(change(record)), 'already_exists');
        expect(await collection(kind).get(record.id)).toEqual(record);
      });

      it('updates a record and returns what it wrote', async () => {
        const record = make(clock());
        await collection(kind).create(record);
        const updated = await collection(kind).update(record.id, (current) => change(current));
        expect(updated).toEqual(change(record));
        expect(await collection(kind).get(record.id)).toEqual(change(record));
      });

      it('deletes a record once', async () => {
        const record = make(clock());
        await collection(kind).create(record);
        expect(await collection(kind).delete(record.id)).toBe(true);
        expect(await collection(kind).get(record.id)).toBeUndefined();
        expect(await collection(kind).delete(record.id)).toBe(false);
      });

      it('answers undefined, false or not_found for an ID it never stored', async () => {
        expect(await collection(kind).get('missing')).toBeUndefined();
        expect(await collection(kind).take('missing')).toBeUndefined();
        expect(await collection(kind).delete('missing')).toBe(false);
        await expectStorageError(collection(kind).update('missing', (current) => current), 'not_found');
      });

      it('hands out copies, so changing a returned record changes nothing stored', async () => {
        const record = make(clock());
        await collection(kind).create(record);
        const copy = await collection(kind).get(record.id);
        (copy as { id: string; mutated?: boolean }).mutated = true;
        record.alsoMutated = true;
        expect(await collection(kind).get(record.id)).not.toHaveProperty('mutated');
        expect(await collection(kind).get(record.id)).not.toHaveProperty('alsoMutated');
      });
    });

    describe('Collection.update', () => {
      it('never loses an update under 20 concurrent writers', async () => {
        await storage.refreshTokens.create(refreshToken('family', clock()));
        const increment = () => storage.refreshTokens.update('family', (t) => ({ ...t, lastUsedAt: t.lastUsedAt + 1 }));
        await Promise.all(Array.from({ length: 20 }, increment));
        expect((await storage.refreshTokens.get('family'))?.lastUsedAt).toBe(clock() + 20);
      });

      it('reruns the updater on the newer record when another writer got in between', async () => {
        await storage.clients.create(client('app'));
        const seen: string[] = [];
        const result = await storage.clients.update('app', async (current) => {
          seen.push(current.name);
          if (seen.length === 1) await storage.clients.update('app', (c) => ({ ...c, name: 'Renamed' }));
          return { ...current, trustedPeers: ['peer'] };
        });
        expect(seen).toEqual(['Example App', 'Renamed']);
        expect(result).toMatchObject({ name: 'Renamed', trustedPeers: ['peer'] });
        expect(await storage.clients.get('app')).toEqual(result);
      });

      it('never writes a stale update over a record that took the ID of an expired one', async () => {
        await storage.revocations.create(revocation('s1', clock(), 'user-1'));
        const seen: Array<string | undefined> = [];
        const result = await storage.revocations.update('sid:s1', async (current) => {
          seen.push(current.userId);
          if (seen.length === 1) {
            clock.advance(HOUR);
            await storage.revocations.create(revocation('s1', clock(), 'user-2'));
          }
          return { ...current, value: 'updated' };
        });
        expect(seen).toEqual(['user-1', 'user-2']);
        expect(result.userId).toBe('user-2');
      });

      it('applies an update based on the record get returned (basis) and writes it', async () => {
        await storage.clients.create(client('app'));
        const read = await storage.clients.get('app');
        const seen: unknown[] = [];
        const result = await storage.clients.update('app', (current) => {
          seen.push(current);
          return { ...current, name: 'Renamed' };
        }, { basis: read! });
        expect(seen).toEqual([client('app')]);
        expect(result.name).toBe('Renamed');
        expect(await storage.clients.get('app')).toEqual(result);
      });

      it('hands the updater the stored record, not the basis, once another writer changed it', async () => {
        await storage.clients.create(client('app'));
        const read = await storage.clients.get('app');
        await storage.clients.update('app', (c) => ({ ...c, name: 'Renamed meanwhile' }));
        const seen: string[] = [];
        const result = await storage.clients.update('app', (current) => {
          seen.push(current.name);
          return { ...current, trustedPeers: ['peer'] };
        }, { basis: read! });
        expect(seen).toEqual(['Renamed meanwhile']);
        expect(result).toMatchObject({ name: 'Renamed meanwhile', trustedPeers: ['peer'] });
      });

      it('ignores a basis that get did not return as it is stored', async () => {
        await storage.clients.create(client('app'));
        const read = await storage.clients.get('app');
        const seen: string[] = [];
        const update = (basis: ReturnType<typeof client>) => storage.clients.update('app', (current) => {
          seen.push(current.name);
          return current;
        }, { basis });
        await update({ ...read!, name: 'a copy, never stored' });
        await update({ ...client('app'), name: 'made here, never stored' });
        expect(seen).toEqual(['Example App', 'Example App']);
      });

      it('treats an expired record as not found even with a basis read before it expired', async () => {
        await storage.authCodes.create(authCode('code-hash', clock()));
        const read = await storage.authCodes.get('code-hash');
        clock.advance(HOUR);
        await expectStorageError(storage.authCodes.update('code-hash', (c) => c, { basis: read! }), 'not_found');
      });

      it('aborts without writing when the updater throws, and propagates that error', async () => {
        await storage.clients.create(client('app'));
        const abort = new Error('policy says no');
        await expect(storage.clients.update('app', () => { throw abort; })).rejects.toBe(abort);
        expect(await storage.clients.get('app')).toEqual(client('app'));
      });

      it('refuses an updater that changes the ID (conflict)', async () => {
        await storage.clients.create(client('app'));
        await expectStorageError(storage.clients.update('app', (c) => ({ ...c, id: 'other' })), 'conflict');
        expect(await storage.clients.get('other')).toBeUndefined();
      });

      it('treats an expired record as not found', async () => {
        await storage.authCodes.create(authCode('code-hash', clock()));
        clock.advance(HOUR);
        await expectStorageError(storage.authCodes.update('code-hash', (c) => c), 'not_found');
      });
    });

    describe('Collection.take', () => {
      it('hands the record to exactly one of two concurrent callers', async () => {
        const code = authCode('code-hash', clock());
        await storage.authCodes.create(code);
        const results = await Promise.all([storage.authCodes.take(code.id), storage.authCodes.take(code.id)]);
        expect(results.filter((r) => r !== undefined)).toEqual([code]);
        expect(await storage.authCodes.get(code.id)).toBeUndefined();
      });

      it('never returns an expired record', async () => {
        const code = authCode('code-hash', clock());
        await storage.authCodes.create(code);
        clock.advance(HOUR);
        expect(await storage.authCodes.take(code.id)).toBeUndefined();
      });
    });

    describe('expiry and garbage collection', () => {
      it('hides a record from get and list from the moment it expires', async () => {
        await storage.revocations.create(revocation('s1', clock()));
        clock.advance(HOUR - 1);
        expect(await storage.revocations.get('sid:s1')).toBeDefined();
        clock.advance(1);
        expect(await storage.revocations.get('sid:s1')).toBeUndefined();
        expect(await storage.revocations.list()).toEqual([]);
        expect(await storage.revocations.list({ index: 'user-1' })).toEqual([]);
      });

      it('lets a new record take the ID of an expired one', async () => {
        await storage.revocations.create(revocation('s1', clock()));
        clock.advance(HOUR);
        const again = revocation('s1', clock(), 'user-2');
        await storage.revocations.create(again);
        expect(await storage.revocations.get('sid:s1')).toEqual(again);
      });

      it('gc deletes every expired record, counts them per kind, and keeps records that never expire', async () => {
        const start = clock();
        for (const { kind, make } of KIND_FIXTURES) await collection(kind).create(make(start));
        await storage.authRequests.create({ ...authRequest('req-live', start), expiresAt: start + 48 * HOUR });
        clock.advance(24 * HOUR);

        const counts = await storage.gc(clock());
        const expected = Object.fromEntries(KIND_FIXTURES.map(({ kind, expires }) => [kind, expires ? 1 : 0]));
        expect(counts).toEqual(expected);
        expect(Object.values(await storage.gc(clock())).every((n) => n === 0)).toBe(true);

        clock.set(start); // had gc only hidden them, they would reappear now
        for (const { kind, make, expires } of KIND_FIXTURES) {
          expect(await collection(kind).get(make(start).id)).toEqual(expires ? undefined : make(start));
        }
        expect(await storage.authRequests.get('req-live')).toBeDefined();
      });
    });

    describe('Collection.list by index', () => {
      it('lists the refresh tokens of one user by identity.userId', async () => {
        await storage.refreshTokens.create(refreshToken('b', clock(), 'user-1'));
        await storage.refreshTokens.create(refreshToken('a', clock(), 'user-1'));
        await storage.refreshTokens.create(refreshToken('c', clock(), 'user-2'));
        expect((await storage.refreshTokens.list({ index: 'user-1' })).map((t) => t.id)).toEqual(['a', 'b']);
        expect((await storage.refreshTokens.list()).map((t) => t.id)).toEqual(['a', 'b', 'c']);
        expect(await storage.refreshTokens.list({ index: 'nobody' })).toEqual([]);
      });

      it('lists the login sessions of one user by identity.userId, and the consents of one subject', async () => {
        await storage.loginSessions.create(loginSession('s2', clock(), 'user-1'));
        await storage.loginSessions.create(loginSession('s1', clock(), 'user-1'));
        await storage.loginSessions.create(loginSession('s3', clock(), 'user-2'));
        expect((await storage.loginSessions.list({ index: 'user-1' })).map((s) => s.id)).toEqual(['s1', 's2']);
        await storage.consents.create(consent('c1', clock(), 'sub-a'));
        await storage.consents.create(consent('c2', clock(), 'sub-b'));
        expect((await storage.consents.list({ index: 'sub-b' })).map((c) => c.id)).toEqual(['c2']);
      });

      it('finds a device request by userCodeHash, and no expired one', async () => {
        await storage.deviceRequests.create(deviceRequest('device-1', clock(), 'code-a'));
        await storage.deviceRequests.create({ ...deviceRequest('device-2', clock(), 'code-b'), expiresAt: clock() + 1_000 });
        expect((await storage.deviceRequests.list({ index: 'code-a' })).map((r) => r.id)).toEqual(['device-1']);
        expect((await storage.deviceRequests.list({ index: 'code-b' })).map((r) => r.id)).toEqual(['device-2']);
        clock.advance(1_000);
        expect(await storage.deviceRequests.list({ index: 'code-b' })).toEqual([]);
      });

      it('moves a record to its new index key when an update changes it', async () => {
        await storage.revocations.create(revocation('s1', clock(), 'user-1'));
        await storage.revocations.update('sid:s1', (r) => ({ ...r, userId: 'user-2' }));
        expect(await storage.revocations.list({ index: 'user-1' })).toEqual([]);
        expect((await storage.revocations.list({ index: 'user-2' })).map((r) => r.id)).toEqual(['sid:s1']);
      });
    });

    describe('markUsed', () => {
      it('is true the first time, false while the mark lives, and true again after it expired', async () => {
        expect(await storage.markUsed('saml', '_id1', clock() + HOUR)).toBe(true);
        expect(await storage.markUsed('saml', '_id1', clock() + HOUR)).toBe(false);
        expect(await storage.markUsed('jti', '_id1', clock() + HOUR)).toBe(true);
        clock.advance(HOUR);
        expect(await storage.markUsed('saml', '_id1', clock() + HOUR)).toBe(true);
      });

      it('says true to exactly one of two concurrent callers', async () => {
        const results = await Promise.all([storage.markUsed('jti', 'x', clock() + HOUR), storage.markUsed('jti', 'x', clock() + HOUR)]);
        expect(results.sort()).toEqual([false, true]);
      });
    });

    describe('static records', () => {
      it('refuses to update, delete or take a stored record marked static (read_only)', async () => {
        await storage.clients.create({ ...client('fixed'), static: true });
        await expectStorageError(storage.clients.update('fixed', (c) => ({ ...c, name: 'x' })), 'read_only');
        await expectStorageError(storage.clients.delete('fixed'), 'read_only');
        await expectStorageError(storage.clients.take('fixed'), 'read_only');
        expect(await storage.clients.get('fixed')).toEqual({ ...client('fixed'), static: true });
      });

      it('serves config entries on top of stored ones, marked static, winning on the same ID', async () => {
        await storage.clients.create({ ...client('app'), name: 'stored app' });
        await storage.clients.create(client('dynamic'));
        const overlaid = withStatic(storage, { clients: [client('app'), client('config-only')], passwords: [password()], connectors: [connector('ldap')] });
        expect(await overlaid.clients.get('app')).toEqual({ ...client('app'), static: true });
        expect((await overlaid.clients.list()).map((c) => [c.id, c.static ?? false])).toEqual([
          ['app', true], ['config-only', true], ['dynamic', false],
        ]);
        expect(await overlaid.passwords.get('jane@example.com')).toEqual({ ...password(), static: true });
        expect(await overlaid.connectors.list()).toEqual([{ ...connector('ldap'), static: true }]);
      });

      it('refuses every write to a static ID and lets stored IDs through', async () => {
        const overlaid = withStatic(storage, { clients: [client('app')], passwords: [password()], connectors: [connector('ldap')] });
        await expectStorageError(overlaid.clients.create(client('app')), 'read_only');
        await expectStorageError(overlaid.clients.update('app', (c) => c), 'read_only');
        await expectStorageError(overlaid.clients.delete('app'), 'read_only');
        await expectStorageError(overlaid.clients.take('app'), 'read_only');
        await expectStorageError(overlaid.passwords.update('jane@example.com', (p) => p), 'read_only');
        await expectStorageError(overlaid.connectors.delete('ldap'), 'read_only');
        await overlaid.clients.create(client('dynamic'));
        await overlaid.clients.update('dynamic', (c) => ({ ...c, name: 'changed' }));
        expect((await storage.clients.get('dynamic'))?.name).toBe('changed');
      });

      it('keeps config entries immutable even if a caller changes what it got', async () => {
        const overlaid = withStatic(storage, { clients: [client('app')] });
        const got = await overlaid.clients.get('app');
        got!.redirectURIs.push('https://evil.example.com');
        expect((await overlaid.clients.get('app'))?.redirectURIs).toEqual(client('app').redirectURIs);
      });

      it('refuses the same static ID twice (already_exists)', () => {
        expect(() => withStatic(storage, { clients: [client('app'), client('app')] })).toThrow(expect.objectContaining({ code: 'already_exists' }));
      });
    });

    describe('ping and close', () => {
      it('pings while open; after close, ping and reads fail as unavailable', async () => {
        await storage.ping();
        await storage.close();
        await expectStorageError(storage.ping(), 'unavailable');
        await expectStorageError(storage.clients.get('app'), 'unavailable');
      });
    });
  });
}
