/**
 * The built-in password database (Dex's `local` connector, on with enablePasswordDB): email + bcrypt
 * password entries from staticPasswords and storage.passwords. An unknown user costs the same bcrypt
 * compare as a wrong password (against a dummy hash of the same cost), so timing does not reveal which
 * emails exist. Refresh re-reads the entry and refuses once it is gone.
 */
import bcrypt from 'bcryptjs';
import { ConnectorError, type Identity, type PasswordConnector, type RefreshConnector } from '../../src/connector.js';
import type { Password } from '../../src/storage/storage.js';

/** A password entry as the connector needs it (storage's Password without its record ID). */
export type LocalUser = Omit<Password, 'id' | 'static'>;

export interface LocalConnectorOptions {
  /** Finds the entry for a lowercased email. */
  lookup(email: string): Promise<LocalUser | undefined>;
  /** bcrypt cost of the dummy hash; match the real entries' cost (default 10). */
  dummyCost?: number;
  /** The bcrypt compare; replaceable so tests can see which hash was compared. */
  compare?: (password: string, hash: string) => Promise<boolean>;
}

export type LocalConnector = PasswordConnector & RefreshConnector & { readonly dummyHash: string };

/** The bcrypt cost of a hash ("$2a$10$..." → 10), or undefined. */
export function bcryptCost(hash: string): number | undefined {
  const match = /^\$2[aby]\$(\d{2})\$/.exec(hash);
  return match ? Number(match[1]) : undefined;
}

export async function createLocalConnector(options: LocalConnectorOptions): Promise<LocalConnector> {
  const compare = options.compare ?? ((password: string, hash: string) => bcrypt.compare(password, hash));
  // A hash of a random secret nobody knows: comparing against it always fails, at full bcrypt cost.
  const dummyHash = await bcrypt.hash(crypto.randomUUID(), options.dummyCost ?? 10);

  function identityOf(user: LocalUser): Identity {
    return {
      userId: user.userId,
      username: user.username,
      preferredUsername: user.preferredUsername,
      email: user.email,
      emailVerified: user.emailVerified ?? true,
      groups: user.groups ? [...user.groups] : undefined,
      // The entry's fields, named as in staticPasswords, for claim expressions.
      claims: {
        userID: user.userId, username: user.username, email: user.email, emailVerified: user.emailVerified ?? true,
        ...(user.preferredUsername !== undefined && { preferredUsername: user.preferredUsername }),
        groups: user.groups ? [...user.groups] : [],
      },
    };
  }

  return {
    kind: 'password',
    dummyHash,
    prompt: () => 'Email address',

    async login(_scopes, username, password) {
      const user = await options.lookup(username.trim().toLowerCase());
      const matches = await compare(password, user?.hash ?? dummyHash);
      return user && matches ? identityOf(user) : undefined;
    },

    async refresh(_scopes, identity) {
      const email = identity.email?.toLowerCase();
      const user = email ? await options.lookup(email) : undefined;
      if (!user || user.userId !== identity.userId) {
        throw new ConnectorError('access_denied', 'the password entry for this user no longer exists');
      }
      return identityOf(user);
    },
  };
}
