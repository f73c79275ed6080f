/**
 * `idgate clients|passwords|connectors`: the management operations from a shell, on the SQLite file a
 * deployment shares, with the same rules as Dex's API (config-file entries read-only, flags as exit
 * codes), audited as the local user, and seen by a serving issuer on the same storage.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { parseConfig } from '../../../src/config/load.js';
import { buildIssuer, type Issuer } from '../../../src/issuer.js';
import { openStorage } from '../../../src/storage/open.js';
import { verifySecret } from '../../../src/storage/secrets.js';
import type { Storage } from '../../../src/storage/storage.js';
import { memoryAuditLog } from '../../../src/telemetry/audit.js';
import { silentLogger } from '../../../src/telemetry/logger.js';

const ADMIN_HASH = '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W';

let dir: string;
let configFile: string;
let storage: Storage;

function configYaml(storageYaml: string): string {
  return `issuer: http://127.0.0.1:5556/dex
${storageYaml}
web: {http: "127.0.0.1:5556"}
staticClients:
  - {id: example-app, name: Example App, secret: s3cret, redirectURIs: ["http://127.0.0.1:5555/callback"]}
enablePasswordDB: true
staticPasswords:
  - {email: admin@example.com, hash: "${ADMIN_HASH}", username: admin, userID: admin-1}
connectors:
  - {type: mockCallback, id: mock, name: Mock}
`;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idgate-manage-cli-'));
  configFile = path.join(dir, 'idgate.yaml');
  await writeFile(configFile, configYaml(`storage: {type: sqlite3, config: {file: "${path.join(dir, 'idgate.db')}"}}`));
  storage = await openStorage({ type: 'sqlite3', config: { file: path.join(dir, 'idgate.db') } });
});

afterAll(async () => {
  await storage?.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], stdin?: string) {
  const out = { stdout: '', stderr: '' };
  const io = { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s), ...(stdin !== undefined ? { stdin: async () => stdin } : {}) };
  const code = await main(args, io);
  return { code, ...out };
}

/** The audit lines a run wrote (to stderr: stdout is the command's answer). */
function auditOf(stderr: string): Array<Record<string, unknown>> {
  return stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('idgate clients', () => {
  it('creates a client, prints the generated secret once, and stores only its hash; audited as the local user', async () => {
    const created = await run(['clients', 'create', '--config', configFile, '--id', 'cli-app', '--name', 'CLI App', '--redirect-uri', 'http://127.0.0.1:5555/cli']);
    expect(created.code).toBe(0);
    const secret = /^secret: ([a-z2-7]{52})$/m.exec(created.stdout)?.[1];
    expect(created.stdout).toMatch(/^created client cli-app$/m);
    const stored = await storage.clients.get('cli-app');
    expect(verifySecret(secret!, stored!.secretHash!)).toBe(true);
    expect(auditOf(created.stderr)).toEqual([expect.objectContaining({ type: 'client_created', outcome: 'succeeded', clientId: 'cli-app', origin: 'admin-cli', actor: userInfo().username })]);
    expect(created.stderr).not.toContain(secret);
  });

  it('lists stored and config-file clients, as text and as JSON without secrets', async () => {
    const listed = await run(['clients', 'list', '--config', configFile]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('example-app\tconfidential\tExample App\thttp://127.0.0.1:5555/callback\tconfig-file\n');
    expect(listed.stdout).toContain('cli-app\tconfidential\tCLI App\thttp://127.0.0.1:5555/cli\tstored\n');
    const json = JSON.parse((await run(['clients', 'list', '--config', configFile, '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(json.map((c) => c.id)).toEqual(['cli-app', 'example-app']);
    expect(JSON.stringify(json)).not.toMatch(/secret/i);
  });

  it('answers with exit codes: 4 already exists, 3 not found, 5 read-only, 1 a bad value, 2 usage', async () => {
    expect((await run(['clients', 'create', '--config', configFile, '--id', 'cli-app'])).code).toBe(4);
    expect((await run(['clients', 'update', '--config', configFile, '--id', 'nobody', '--name', 'x'])).code).toBe(3);
    const readOnly = await run(['clients', 'delete', '--config', configFile, '--id', 'example-app']);
    expect(readOnly.code).toBe(5);
    expect(readOnly.stderr).toContain(`comes from the config file and cannot be changed; change it in ${configFile}`);
    const bad = await run(['clients', 'update', '--config', configFile, '--id', 'cli-app', '--redirect-uri', 'not a url']);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('--redirect-uri[0]: not an absolute URL') });
    expect((await run(['clients', 'create', '--config', configFile, '--public', '--secret', 'x'])).code).toBe(1);
    expect((await run(['clients', 'frobnicate', '--config', configFile])).code).toBe(2);
    expect((await run(['clients', 'list'])).code).toBe(2);
    const stray = await run(['clients', 'delete', '--config', configFile, '--email', 'a@b.c']);
    expect(stray).toMatchObject({ code: 2, stderr: expect.stringContaining('--email does not apply to clients delete') });
  });

  it('updates and deletes a stored client', async () => {
    expect((await run(['clients', 'update', '--config', configFile, '--id', 'cli-app', '--redirect-uri', 'http://127.0.0.1:5555/a', '--redirect-uri', 'http://127.0.0.1:5555/b'])).code).toBe(0);
    expect((await storage.clients.get('cli-app'))?.redirectURIs).toEqual(['http://127.0.0.1:5555/a', 'http://127.0.0.1:5555/b']);
    expect((await run(['clients', 'delete', '--config', configFile, '--id', 'cli-app'])).code).toBe(0);
    expect(await storage.clients.get('cli-app')).toBeUndefined();
    expect((await run(['clients', 'delete', '--config', configFile, '--id', 'cli-app'])).code).toBe(3);
  });
});

describe('idgate passwords', () => {
  it('creates an entry from a password on stdin (hashed with bcrypt) or from a bcrypt hash', async () => {
    const created = await run(['passwords', 'create', '--config', configFile, '--email', 'Bob@Example.com', '--user-id', 'bob-1', '--username', 'Bob', '--password-stdin'], 'hunter2 hunter2\n');
    expect(created).toMatchObject({ code: 0, stdout: 'created password entry Bob@Example.com\n' });
    const entry = await storage.passwords.get('bob@example.com');
    expect(await bcrypt.compare('hunter2 hunter2', entry!.hash)).toBe(true);
    expect(JSON.stringify(auditOf(created.stderr))).not.toContain('hunter2');
    const lowCost = await run(['passwords', 'create', '--config', configFile, '--email', 'eve@example.com', '--user-id', 'eve', '--hash', bcrypt.hashSync('x', 4)]);
    expect(lowCost).toMatchObject({ code: 1, stderr: expect.stringContaining("--hash: the hash's cost 4 is below the minimum of 10") });
    expect((await run(['passwords', 'create', '--config', configFile, '--email', 'eve@example.com', '--user-id', 'eve', '--hash', bcrypt.hashSync('x', 10)])).code).toBe(0);
  });

  it('lists, updates and deletes entries; config-file entries are read-only', async () => {
    expect((await run(['passwords', 'list', '--config', configFile])).stdout).toBe(
      'admin@example.com\tadmin\tadmin-1\tconfig-file\nbob@example.com\tBob\tbob-1\tstored\neve@example.com\t-\teve\tstored\n',
    );
    expect((await run(['passwords', 'update', '--config', configFile, '--email', 'bob@example.com', '--username', 'Robert'])).code).toBe(0);
    expect((await storage.passwords.get('bob@example.com'))?.username).toBe('Robert');
    expect((await run(['passwords', 'update', '--config', configFile, '--email', 'admin@example.com', '--username', 'evil'])).code).toBe(5);
    expect((await run(['passwords', 'update', '--config', configFile, '--email', 'bob@example.com'])).code).toBe(1);
    expect((await run(['passwords', 'delete', '--config', configFile, '--email', 'bob@example.com'])).code).toBe(0);
    expect((await run(['passwords', 'delete', '--config', configFile, '--email', 'bob@example.com'])).code).toBe(3);
    expect((await run(['passwords', 'create', '--config', configFile, '--email', 'x@example.com', '--user-id', 'x'])).code).toBe(2);
  });
});

describe('idgate connectors', () => {
  let issuer: Issuer;

  beforeAll(async () => {
    // A serving issuer on the same SQLite file: what the CLI stores, it opens at its next re-list.
    const config = parseConfig(configYaml(`storage: {type: sqlite3, config: {file: "${path.join(dir, 'idgate.db')}"}}`), 'serving.yaml', {});
    issuer = await buildIssuer(config, { logger: silentLogger(), storage, audit: memoryAuditLog() });
  });
  afterAll(() => issuer?.close());

  const onChooser = async () => {
    await issuer.refreshConnectors();
    return [...issuer.context.connectors.values()].map((open) => [open.id, open.name]);
  };

  it('creates a connector from a YAML config file, which a serving issuer on the same storage opens', async () => {
    const file = path.join(dir, 'runtime.yaml');
    await writeFile(file, 'username: kilgore\npassword: trout\n');
    const created = await run(['connectors', 'create', '--config', configFile, '--id', 'cli-conn', '--type', 'mockPassword', '--name', 'CLI Login', '--connector-config', file]);
    expect(created).toMatchObject({ code: 0, stdout: 'created connector cli-conn\n' });
    expect(await onChooser()).toEqual([['mock', 'Mock'], ['local', 'Email'], ['cli-conn', 'CLI Login']]);
    const listed = JSON.parse((await run(['connectors', 'list', '--config', configFile, '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(listed.find((c) => c.id === 'cli-conn')).toEqual({ id: 'cli-conn', type: 'mockPassword', name: 'CLI Login', config: { username: 'kilgore', password: 'trout' }, grantTypes: [], static: false });
    expect(listed.find((c) => c.id === 'mock')).toEqual({ id: 'mock', type: 'mockCallback', name: 'Mock', grantTypes: [], static: true });
  });

  it('limits and unlimits its grants, refuses bad input, and keeps config-file connectors read-only', async () => {
    expect((await run(['connectors', 'update', '--config', configFile, '--id', 'cli-conn', '--grant-type', 'authorization_code'])).code).toBe(0);
    expect((await storage.connectors.get('cli-conn'))?.grantTypes).toEqual(['authorization_code']);
    expect((await run(['connectors', 'update', '--config', configFile, '--id', 'cli-conn', '--all-grant-types'])).code).toBe(0);
    expect((await storage.connectors.get('cli-conn'))?.grantTypes).toBeUndefined();
    const badType = await run(['connectors', 'create', '--config', configFile, '--id', 'x', '--type', 'nope', '--name', 'X', '--connector-config', path.join(dir, 'runtime.yaml')]);
    expect(badType).toMatchObject({ code: 1, stderr: expect.stringContaining('--type: unknown connector type "nope"') });
    const missing = await run(['connectors', 'create', '--config', configFile, '--id', 'x', '--type', 'mockPassword', '--name', 'X', '--connector-config', path.join(dir, 'absent.yaml')]);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('absent.yaml: file not found') });
    expect((await run(['connectors', 'delete', '--config', configFile, '--id', 'mock'])).code).toBe(5);
  });

  it('deletes a connector, which the serving issuer then closes', async () => {
    expect((await run(['connectors', 'delete', '--config', configFile, '--id', 'cli-conn'])).code).toBe(0);
    expect(await onChooser()).toEqual([['mock', 'Mock'], ['local', 'Email']]);
  });
});

describe('idgate clients on memory storage', () => {
  it('refuses: memory storage lives inside the serving process', async () => {
    const file = path.join(dir, 'memory.yaml');
    await writeFile(file, configYaml('storage: {type: memory}'));
    const refused = await run(['clients', 'list', '--config', file]);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('memory lives inside the serving process') });
  });
});
