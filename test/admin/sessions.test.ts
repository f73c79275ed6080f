/**
 * `idgate sessions list|revoke`: an operator lists and revokes one user's sessions on the storage a
 * deployment shares (a SQLite file, a PostgreSQL schema); revoking deletes the families and writes the
 * sid revocations filters deny, and touches no other user or client.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSessionsCommand } from '../../src/admin/sessions.js';
import { main } from '../../src/cli.js';
import { openStorage, type StorageConfig } from '../../src/storage/open.js';
import { subjectOf } from '../../src/oidc/claims.js';
import { subjectKey, type RefreshToken, type Storage } from '../../src/storage/storage.js';
import { dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from '../storage/postgres-helpers.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

function family(id: string, userId: string, clientId: string): RefreshToken {
  const now = Date.now();
  return {
    id, clientId, connectorId: 'local', scopes: ['openid', 'offline_access'],
    identity: { userId, username: userId }, authTime: Math.floor(now / 1000), tokenHash: `hash-${id}`,
    createdAt: now, lastUsedAt: now, expiresAt: now + 3_600_000,
  };
}

/** The password DB (`local`) and one more connector: a user ID is a subject at each. */
const CONNECTORS = 'enablePasswordDB: true\nconnectors:\n  - {type: mockCallback, id: mock, name: Mock}\n';
const subjectRevocationId = (userId: string, connectorId: string) => `sub:${subjectKey('http://127.0.0.1:5556/dex', subjectOf(userId, connectorId))}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idgate-sessions-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, storageYaml: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `issuer: http://127.0.0.1:5556/dex/\n${storageYaml}\nweb: {http: "127.0.0.1:5556"}\nexpiry: {idTokens: 2h, accessTokens: 30m}\n${CONNECTORS}`);
  return file;
}

/** The same behaviour on every shared storage type. */
function describeSessionsCommand(name: string, setup: () => Promise<{ file: string; storageConfig: StorageConfig; cleanup(): Promise<void> }>) {
  describe(`idgate sessions on ${name}`, () => {
    let file: string;
    let storage: Storage;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      const made = await setup();
      file = made.file;
      cleanup = made.cleanup;
      storage = await openStorage(made.storageConfig);
      await storage.refreshTokens.create(family('fam-a1', 'alice', 'app-one'));
      await storage.refreshTokens.create(family('fam-a2', 'alice', 'app-two'));
      await storage.refreshTokens.create(family('fam-b1', 'bob', 'app-one'));
    });
    afterAll(async () => {
      await storage?.close();
      await cleanup?.();
    });

    it('lists the sessions of one user, one line each, and counts them', async () => {
      const { out, io } = capture();
      expect(await main(['sessions', 'list', '--config', file, '--user', 'alice'], io)).toBe(0);
      expect(out.stdout).toMatch(/^fam-a1\tapp-one\tlocal\tcreated /m);
      expect(out.stdout).toMatch(/^fam-a2\tapp-two\tlocal\t/m);
      expect(out.stdout).not.toContain('fam-b1');
      expect(out.stdout).toContain('2 session(s) of user alice');
    });

    it('revokes only the sessions of that user with that client when --client is given', async () => {
      const { out, io } = capture();
      expect(await runSessionsCommand(['revoke', '--config', file, '--user', 'alice', '--client', 'app-one'], io)).toBe(0);
      expect(out.stdout).toContain('revoked 1 session(s) of user alice for client app-one');
      expect(await storage.refreshTokens.get('fam-a1')).toBeUndefined();
      expect(await storage.refreshTokens.get('fam-a2')).toBeDefined();
      expect(await storage.refreshTokens.get('fam-b1')).toBeDefined();
      const revoked = await storage.revocations.get('sid:fam-a1');
      expect(revoked).toMatchObject({ kind: 'sid', value: 'fam-a1', userId: 'alice' });
      // Remembered as long as the longest token of the session may live (idTokens: 2h here).
      expect(revoked!.expiresAt - revoked!.createdAt).toBe(2 * 3_600_000);
      expect(JSON.parse(out.stderr.trim())).toMatchObject({ type: 'session_revoked', outcome: 'succeeded', reason: 'revoked_by_admin', sid: 'fam-a1', origin: 'sessions-cli' });
      // --client reaches only that client's stored sessions, never the user's other tokens.
      expect(await storage.revocations.get(subjectRevocationId('alice', 'local'))).toBeUndefined();
    });

    it('revokes every remaining session of the user, and a second run finds none', async () => {
      const first = capture();
      expect(await runSessionsCommand(['revoke', '--config', file, '--user', 'alice'], first.io)).toBe(0);
      expect(first.out.stdout).toContain('revoked 1 session(s) of user alice');
      expect(await storage.revocations.get('sid:fam-a2')).toBeDefined();
      expect(await storage.refreshTokens.get('fam-b1')).toBeDefined();
      const second = capture();
      expect(await runSessionsCommand(['revoke', '--config', file, '--user', 'alice'], second.io)).toBe(0);
      expect(second.out.stdout).toContain('revoked 0 session(s)');
    });

    it('revokes the subject at every configured connector (sessions without a refresh token), later each time', async () => {
      const first = capture();
      expect(await runSessionsCommand(['revoke', '--config', file, '--user', 'carol'], first.io)).toBe(0);
      expect(first.out.stdout).toContain('revoked 0 session(s) of user carol');
      expect(first.out.stdout).toContain(`revoked every token issued until now to sub ${subjectOf('carol', 'local')} (connector local)`);
      expect(first.out.stdout).toContain(`to sub ${subjectOf('carol', 'mock')} (connector mock)`);
      const local = await storage.revocations.get(subjectRevocationId('carol', 'local'));
      // Keyed by the issuer tokens carry (no trailing slash), remembered as long as the longest token lives.
      expect(local).toMatchObject({ kind: 'sub', value: subjectKey('http://127.0.0.1:5556/dex', subjectOf('carol', 'local')), userId: 'carol' });
      expect(local!.expiresAt - local!.createdAt).toBe(2 * 3_600_000);
      expect(await storage.revocations.get(subjectRevocationId('carol', 'mock'))).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await runSessionsCommand(['revoke', '--config', file, '--user', 'carol', '--connector', 'local'], capture().io)).toBe(0);
      expect((await storage.revocations.get(subjectRevocationId('carol', 'local')))!.createdAt).toBeGreaterThan(local!.createdAt);
    });

    it('revokes at one connector only with --connector, and refuses a connector the config does not have', async () => {
      const { out, io } = capture();
      expect(await runSessionsCommand(['revoke', '--config', file, '--user', 'dave', '--connector', 'mock'], io)).toBe(0);
      expect(out.stdout).toContain('(connector mock)');
      expect(await storage.revocations.get(subjectRevocationId('dave', 'mock'))).toBeDefined();
      expect(await storage.revocations.get(subjectRevocationId('dave', 'local'))).toBeUndefined();
      const unknown = capture();
      expect(await runSessionsCommand(['revoke', '--config', file, '--user', 'dave', '--connector', 'ldap'], unknown.io)).toBe(2);
      expect(unknown.out.stderr).toContain('--connector: no connector "ldap"');
      expect(unknown.out.stderr).toContain('configured: local, mock');
    });
  });
}

describeSessionsCommand('a SQLite file', async () => {
  const db = path.join(dir, 'sessions.db');
  return {
    file: await writeConfig('sqlite.yaml', `storage: {type: sqlite3, config: {file: ${db}}}`),
    storageConfig: { type: 'sqlite3', config: { file: db } },
    cleanup: async () => undefined,
  };
});

describeSessionsCommand('PostgreSQL', async () => {
  await requirePostgres();
  const schema = randomSchemaName();
  return {
    file: await writeConfig('postgres.yaml', `storage: {type: postgres, config: {connectionString: "${TEST_POSTGRES_URL}", schema: ${schema}}}`),
    storageConfig: { type: 'postgres', config: { connectionString: TEST_POSTGRES_URL, schema } },
    cleanup: () => dropSchema(schema),
  };
});

describe('idgate sessions usage', () => {
  it('requires --user, with the usage and exit code 2', async () => {
    const { out, io } = capture();
    expect(await runSessionsCommand(['list', '--config', 'x.yaml'], io)).toBe(2);
    expect(out.stderr).toContain('--user USER_ID is required');
    expect(out.stderr).toContain('idgate sessions revoke');
  });

  it('refuses an unknown action and --client on list', async () => {
    const unknown = capture();
    expect(await runSessionsCommand(['drop', '--config', 'x.yaml', '--user', 'u'], unknown.io)).toBe(2);
    expect(unknown.out.stderr).toContain('unknown action "drop"');
    const client = capture();
    expect(await runSessionsCommand(['list', '--config', 'x.yaml', '--user', 'u', '--client', 'c'], client.io)).toBe(2);
    expect(client.out.stderr).toContain('--client applies to revoke only');
  });

  it('explains that memory storage cannot be managed from outside the server (exit 1)', async () => {
    const file = await writeConfig('memory.yaml', 'storage: {type: memory}');
    const { out, io } = capture();
    expect(await main(['sessions', 'list', '--config', file, '--user', 'alice'], io)).toBe(1);
    expect(out.stderr).toContain('storage type memory lives inside the serving process');
  });

  it('is listed in the usage of idgate', async () => {
    const { out, io } = capture();
    expect(await main(['help'], io)).toBe(0);
    expect(out.stdout).toContain('sessions list|revoke');
  });
});
