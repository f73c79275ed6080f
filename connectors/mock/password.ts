/**
 * `mockPassword` (as in Dex): a PasswordConnector with one username/password from its config that
 * logs in as Dex's fixed test identity. For development and tests only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ConnectorFactory, Identity, PasswordConnector, RefreshConnector } from '../../src/connector.js';
import { KILGORE_TROUT } from './callback.js';

const configSchema = z.strictObject({
  username: z.string().min(1, { message: 'must not be empty' }),
  password: z.string().min(1, { message: 'must not be empty' }),
});

export type MockPasswordConfig = z.infer<typeof configSchema>;

const sameText = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

function identity(): Identity {
  const { groups: _groups, ...rest } = KILGORE_TROUT;
  return { ...rest };
}

export const mockPasswordFactory: ConnectorFactory<MockPasswordConfig> = {
  kind: 'password',
  configSchema,
  async open(config): Promise<PasswordConnector & RefreshConnector> {
    return {
      kind: 'password',
      prompt: () => 'Username',
      async login(_scopes, username, password) {
        const userOk = sameText(username, config.username);
        const passwordOk = sameText(password, config.password);
        return userOk && passwordOk ? identity() : undefined;
      },
      async refresh() {
        return identity();
      },
    };
  },
};
