import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { expandEnv, parseConfig } from '../../src/config/load.js';

const base = `issuer: http://127.0.0.1:5556/dex
storage:
  type: sqlite3
  config:
    file: var/idgate.db
web:
  http: 127.0.0.1:5556
`;

function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'test.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}${p.line ? ` @${p.line}` : ''}`);
  }
  throw new Error('expected the config to be refused');
}

describe('config loading', () => {
  it('accepts a minimal Dex config and applies Dex defaults', () => {
    const config = parseConfig(base, 'test.yaml', {});
    expect(config.issuer).toBe('http://127.0.0.1:5556/dex');
    expect(config.storage).toEqual({ type: 'sqlite3', config: { file: 'var/idgate.db' } });
    expect(config.expiry.idTokens).toBe(24 * 3_600_000);
    expect(config.expiry.refreshTokens.reuseInterval).toBe(3_000);
    expect(config.keysRotationPeriod).toBe(6 * 3_600_000);
    expect(config.signer.config.algorithm).toBe('RS256');
  });

  it('names the path and reason of a bad redirect URI, with its line', () => {
    const text = `${base}staticClients:
- id: app
  secret: s3cret
  redirectURIs: [http://127.0.0.1:5555/callback, "callback"]
`;
    expect(problemsOf(text)).toEqual(['staticClients[0].redirectURIs[1]: not an absolute URL @11']);
  });

  it('refuses an unknown key with a suggestion', () => {
    expect(problemsOf(`${base}  allowedOrigin: ["*"]\n`)).toEqual([
      'web.allowedOrigin: unknown key (did you mean "allowedOrigins"?) @8',
    ]);
    expect(problemsOf(`${base}expiry:\n  refreshTokens:\n    reuseIntervall: 3s\n`)[0]).toMatch(
      /^expiry\.refreshTokens\.reuseIntervall: unknown key \(did you mean "reuseInterval"\?\)/,
    );
  });

  it('lists the storage types when the type is unknown', () => {
    expect(problemsOf(base.replace('sqlite3', 'mysql'))).toEqual([
      'storage.type: unknown value (expected one of: memory, sqlite3, postgres) @3',
    ]);
  });

  it('reports a required key that is missing', () => {
    expect(problemsOf(base.replace('issuer: http://127.0.0.1:5556/dex\n', ''))).toEqual(['issuer: is required']);
  });

  it('refuses a bad duration', () => {
    expect(problemsOf(`${base}expiry:\n  idTokens: 10x\n`)).toEqual([
      'expiry.idTokens: "10x" is not a duration (use e.g. "10m", "24h", "1h30m") @9',
    ]);
  });

  it('refuses invalid YAML with its line', () => {
    expect(problemsOf(`${base}staticClients: [\n`)[0]).toMatch(/^: YAML: /);
  });

  it('reads client ids and secrets from the environment (idEnv, secretEnv)', () => {
    const text = `${base}staticClients:\n- idEnv: APP_ID\n  secretEnv: APP_SECRET\n  redirectURIs: [http://127.0.0.1:5555/callback]\n`;
    const config = parseConfig(text, 'test.yaml', { APP_ID: 'app', APP_SECRET: 'from-env' });
    expect(config.staticClients[0]).toMatchObject({ id: 'app', secret: 'from-env', name: 'app' });
    expect(problemsOf(text, { APP_ID: 'app' })).toEqual(['staticClients[0].secretEnv: environment variable APP_SECRET is not set']);
  });

  it('requires a secret for a confidential client and refuses one for a public client', () => {
    expect(problemsOf(`${base}staticClients:\n- id: app\n  redirectURIs: [http://x/cb]\n`)).toEqual([
      'staticClients[0].secret: a confidential client needs secret or secretEnv (or set public: true, or a tokenEndpointAuthMethod without a secret: private_key_jwt, tls_client_auth, self_signed_tls_client_auth) @9',
    ]);
    expect(problemsOf(`${base}staticClients:\n- id: app\n  public: true\n  secret: x\n`)).toEqual([
      'staticClients[0].secret: a public client must not have a secret @11',
    ]);
  });

  it('refuses client_credentials and token exchange on a public client, at the grantTypes entry', () => {
    const text = `${base}staticClients:\n- id: cli\n  public: true\n  grantTypes: [authorization_code, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange]\n`;
    expect(problemsOf(text)).toEqual([
      'staticClients[0].grantTypes[1]: client_credentials needs a confidential client (this one is public) @11',
      'staticClients[0].grantTypes[2]: urn:ietf:params:oauth:grant-type:token-exchange needs a confidential client (this one is public) @11',
    ]);
    expect(parseConfig(text.replace('public: true', 'secret: s'), 'test.yaml', {}).staticClients[0]!.grantTypes).toContain('client_credentials');
  });

  it('refuses a static password whose hash is not bcrypt', () => {
    const text = `${base}staticPasswords:\n- email: admin@example.com\n  hash: plaintext\n  username: admin\n  userID: "1"\n`;
    expect(problemsOf(text)).toEqual(['staticPasswords[0].hash: not a bcrypt hash (nor the base64 of one) @10']);
    // Base64 that does not decode to a bcrypt hash is refused the same way.
    const notBcrypt = Buffer.from('$2a$10$short').toString('base64');
    expect(problemsOf(text.replace('plaintext', notBcrypt))).toEqual(['staticPasswords[0].hash: not a bcrypt hash (nor the base64 of one) @10']);
  });

  it("takes Dex's base64-encoded bcrypt hashes, in hash and in hashFromEnv, as the bcrypt hash itself", () => {
    const bcrypt = '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W';
    const encoded = Buffer.from(bcrypt).toString('base64');
    const entry = (hashLine: string) => `${base}staticPasswords:\n- email: admin@example.com\n  ${hashLine}\n  username: admin\n  userID: "1"\n`;
    expect(parseConfig(entry(`hash: "${encoded}"`), 'test.yaml', {}).staticPasswords[0]!.hash).toBe(bcrypt);
    expect(parseConfig(entry('hashFromEnv: ADMIN_HASH'), 'test.yaml', { ADMIN_HASH: encoded }).staticPasswords[0]!.hash).toBe(bcrypt);
    expect(parseConfig(entry('hashFromEnv: ADMIN_HASH'), 'test.yaml', { ADMIN_HASH: bcrypt }).staticPasswords[0]!.hash).toBe(bcrypt);
    expect(problemsOf(entry('hashFromEnv: ADMIN_HASH'), { ADMIN_HASH: 'plaintext' })).toEqual([
      'staticPasswords[0].hashFromEnv: environment variable ADMIN_HASH does not hold a bcrypt hash (nor the base64 of one)',
    ]);
  });

  it('refuses an unknown connector type with the known ones', () => {
    const text = `${base}connectors:\n- type: nosuch\n  id: x\n  name: X\n`;
    expect(problemsOf(text)[0]).toMatch(/^connectors\[0\]\.type: unknown connector type "nosuch"/);
  });
});

describe('$VAR expansion', () => {
  it('expands $VAR and ${VAR} like os.ExpandEnv, unset to empty', () => {
    expect(expandEnv({ a: 'x-$FOO-${BAR}-$NOPE', b: ['$FOO'] }, { FOO: 'f', BAR: 'b' })).toEqual({ a: 'x-f-b-', b: ['f'] });
  });

  it('expands only in storage, signer and connectors, as Dex does', () => {
    const text = base.replace('var/idgate.db', '$DB_FILE').replace('issuer: http://127.0.0.1:5556/dex', 'issuer: http://127.0.0.1:5556/$PATHX');
    const config = parseConfig(text, 'test.yaml', { DB_FILE: '/data/x.db', PATHX: 'nope' });
    expect(config.storage).toEqual({ type: 'sqlite3', config: { file: '/data/x.db' } });
    expect(config.issuer).toBe('http://127.0.0.1:5556/$PATHX');
  });
});
