/**
 * The local password DB connector: bcrypt check, case-insensitive emails, the dummy compare for an
 * unknown user (same work as a wrong password), and refresh that re-reads the entry.
 */
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { bcryptCost, createLocalConnector, type LocalUser } from '../../../connectors/local/index.js';

const scopes = { offlineAccess: true, groups: true };
const HASH = bcrypt.hashSync('correct horse', 4);
const USER: LocalUser = { email: 'jane@example.com', hash: HASH, username: 'jane', userId: 'u-1', groups: ['dev'] };

function connectorWith(users: Map<string, LocalUser>) {
  const compared: string[] = [];
  const connector = createLocalConnector({
    lookup: async (email) => users.get(email),
    dummyCost: 4,
    compare: (password, hash) => {
      compared.push(hash);
      return bcrypt.compare(password, hash);
    },
  });
  return { connector, compared };
}

describe('local connector', () => {
  it('returns the identity for the right password, email matched case-insensitively', async () => {
    const { connector } = connectorWith(new Map([[USER.email, USER]]));
    const identity = await (await connector).login(scopes, '  Jane@Example.COM ', 'correct horse');
    expect(identity).toEqual({
      userId: 'u-1', username: 'jane', email: 'jane@example.com', emailVerified: true, groups: ['dev'], preferredUsername: undefined,
      // The entry's fields, for claim expressions.
      claims: { userID: 'u-1', username: 'jane', email: 'jane@example.com', emailVerified: true, groups: ['dev'] },
    });
  });

  it('returns undefined for a wrong password, after comparing against the real hash', async () => {
    const { connector, compared } = connectorWith(new Map([[USER.email, USER]]));
    expect(await (await connector).login(scopes, USER.email, 'wrong')).toBeUndefined();
    expect(compared).toEqual([HASH]);
  });

  it('runs the same bcrypt compare against a dummy hash for an unknown user', async () => {
    const { connector, compared } = connectorWith(new Map());
    const local = await connector;
    expect(await local.login(scopes, 'nobody@example.com', 'correct horse')).toBeUndefined();
    expect(compared).toEqual([local.dummyHash]);
    expect(bcryptCost(local.dummyHash)).toBe(4);
  });

  it('never accepts a password against the dummy hash', async () => {
    const { connector } = connectorWith(new Map());
    const local = await connector;
    expect(await local.login(scopes, 'nobody@example.com', '')).toBeUndefined();
  });

  it('refreshes from the current entry (a changed group shows up)', async () => {
    const users = new Map([[USER.email, USER]]);
    const local = await connectorWith(users).connector;
    const identity = (await local.login(scopes, USER.email, 'correct horse'))!;
    users.set(USER.email, { ...USER, groups: ['dev', 'ops'] });
    expect((await local.refresh(scopes, identity)).groups).toEqual(['dev', 'ops']);
  });

  it('refuses to refresh once the entry is gone or belongs to someone else', async () => {
    const users = new Map([[USER.email, USER]]);
    const local = await connectorWith(users).connector;
    const identity = (await local.login(scopes, USER.email, 'correct horse'))!;
    users.set(USER.email, { ...USER, userId: 'u-2' });
    await expect(local.refresh(scopes, identity)).rejects.toMatchObject({ name: 'ConnectorError', code: 'access_denied' });
    users.delete(USER.email);
    await expect(local.refresh(scopes, identity)).rejects.toMatchObject({ code: 'access_denied' });
  });

  it('reads the bcrypt cost of a hash', () => {
    expect(bcryptCost('$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W')).toBe(10);
    expect(bcryptCost('plain')).toBeUndefined();
  });
});
