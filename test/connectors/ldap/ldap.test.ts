// The ldap connector against a real OpenLDAP (slapd started here): login, wrong password, unknown
// user, groups, refresh, TLS (ldaps, StartTLS), filter injection and allowedGroups.
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFactory, type Identity, type PasswordConnector, type RefreshConnector } from '../../../src/connector.js';
import '../../../connectors/index.js';
import { escapeFilterValue } from '../../../connectors/ldap/filter.js';
import { refusal, testContext } from '../context.js';
import { ADMIN_DN, ADMIN_PW, SUFFIX, freePort, startSlapd, type Slapd } from './slapd.js';

type LDAPConnector = PasswordConnector & RefreshConnector;
const scopes = { offlineAccess: true, groups: true };
let slapd: Slapd;

const DATA = `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,${SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
mail: alice@example.org
displayName: alice.l
userPassword: alice-password

dn: uid=bob,ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Builder
mail: bob@example.org
userPassword: bob-password

dn: uid=o(brien)*,ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: o(brien)*
cn: Pat O Brien
sn: Brien
mail: pat@example.org
userPassword: pat-password

dn: cn=admins,ou=groups,${SUFFIX}
objectClass: groupOfNames
cn: admins
member: uid=alice,ou=people,${SUFFIX}

dn: cn=devs,ou=groups,${SUFFIX}
objectClass: posixGroup
cn: devs
gidNumber: 1001
memberUid: alice
memberUid: bob
`;

function baseConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    host: `127.0.0.1:${slapd.port}`,
    insecureNoSSL: true,
    bindDN: ADMIN_DN,
    bindPW: ADMIN_PW,
    usernamePrompt: 'Corporate username',
    userSearch: {
      baseDN: `ou=people,${SUFFIX}`, filter: '(objectClass=inetOrgPerson)', username: 'uid',
      idAttr: 'DN', emailAttr: 'mail', nameAttr: 'cn', preferredUsernameAttr: 'displayName',
    },
    groupSearch: {
      baseDN: `ou=groups,${SUFFIX}`,
      userMatchers: [{ userAttr: 'DN', groupAttr: 'member' }, { userAttr: 'uid', groupAttr: 'memberUid' }],
      nameAttr: 'cn',
    },
    ...overrides,
  };
}

async function open(overrides: Record<string, unknown> = {}): Promise<LDAPConnector> {
  const factory = connectorFactory('ldap')!;
  return (await factory.open(factory.configSchema.parse(baseConfig(overrides)), testContext('ldap'))) as LDAPConnector;
}

async function asAdmin<T>(operation: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url: `ldap://127.0.0.1:${slapd.port}` });
  try {
    await client.bind(ADMIN_DN, ADMIN_PW);
    return await operation(client);
  } finally {
    await client.unbind();
  }
}

beforeAll(async () => {
  slapd = await startSlapd();
  await slapd.ldapadd(DATA);
});
afterAll(async () => slapd?.stop());

describe('ldap connector: login', () => {
  it('logs in with the right password and maps the entry and its groups', async () => {
    const connector = await open();
    expect(connector.prompt()).toBe('Corporate username');
    const identity = await connector.login(scopes, 'alice', 'alice-password');
    expect(identity).toMatchObject({
      userId: `uid=alice,ou=people,${SUFFIX}`, username: 'Alice Liddell', preferredUsername: 'alice.l',
      email: 'alice@example.org', emailVerified: true, groups: ['admins', 'devs'],
    });
  });

  it('uses an attribute as the user ID when idAttr names one', async () => {
    const connector = await open({ userSearch: { ...(baseConfig().userSearch as object), idAttr: 'uid' } });
    expect((await connector.login(scopes, 'bob', 'bob-password'))?.userId).toBe('bob');
  });

  it('returns no identity for a wrong password, an empty password, or an unknown user', async () => {
    const connector = await open();
    expect(await connector.login(scopes, 'alice', 'wrong')).toBeUndefined();
    expect(await connector.login(scopes, 'alice', '')).toBeUndefined();
    expect(await connector.login(scopes, 'mallory', 'alice-password')).toBeUndefined();
  });

  it('matches filter metacharacters in a username literally (RFC 4515 escaping)', async () => {
    const connector = await open();
    expect((await connector.login(scopes, 'o(brien)*', 'pat-password'))?.email).toBe('pat@example.org');
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    expect(escapeFilterValue('a\\b\u0000')).toBe('a\\5cb\\00');
  });

  it('refuses filter injection in the username (`*)(uid=*` and `*`)', async () => {
    const connector = await open();
    expect(await connector.login(scopes, '*)(uid=*', 'alice-password')).toBeUndefined();
    expect(await connector.login(scopes, '*', 'alice-password')).toBeUndefined();
    expect(await connector.login(scopes, 'alice)(|(uid=*', 'alice-password')).toBeUndefined();
  });

  it('refuses a person outside allowedGroups with a readable reason, and filters and prefixes groups', async () => {
    const connector = await open({ allowedGroups: ['admins'], filterGroups: true, modifyGroupNames: { prefix: 'ldap:' } });
    const error = await refusal(connector.login(scopes, 'bob', 'bob-password'));
    expect(error.code).toBe('not_in_allowed_groups');
    expect(error.message).toMatch(/"Bob" is not a member of any group allowed/);
    expect((await connector.login(scopes, 'alice', 'alice-password'))?.groups).toEqual(['ldap:admins']);
  });

  it('refuses a username that matches several entries instead of taking the first', async () => {
    await slapd.ldapadd(`dn: ou=contractors,${SUFFIX}\nobjectClass: organizationalUnit\nou: contractors\n\n` +
      `dn: uid=alice,ou=contractors,${SUFFIX}\nobjectClass: inetOrgPerson\nuid: alice\ncn: Other Alice\nsn: A\nmail: other-alice@example.org\nuserPassword: other-password\n`);
    const connector = await open({ userSearch: { ...(baseConfig().userSearch as object), baseDN: SUFFIX } });
    const error = await refusal(connector.login(scopes, 'alice', 'other-password'));
    expect(error.code).toBe('misconfigured');
    expect(error.message).toMatch(/matched several entries for "alice"/);
  });

  it('reports a wrong service account as a misconfiguration, not as a wrong password', async () => {
    const connector = await open({ bindPW: 'not-the-admin-password' });
    const error = await refusal(connector.login(scopes, 'alice', 'alice-password'));
    expect(error.code).toBe('misconfigured');
    expect(error.message).toMatch(/service account/);
  });

  it('fails with upstream_unavailable when the directory is down', async () => {
    const connector = await open({ host: `127.0.0.1:${await freePort()}`, timeout: '2s' });
    const error = await refusal(connector.login(scopes, 'alice', 'alice-password'));
    expect(error.code).toBe('upstream_unavailable');
  });
});

describe('ldap connector: claims for claim expressions', () => {
  it('hands the fetched attributes over as lists of values, and the dn as a string', async () => {
    const identity = await (await open()).login(scopes, 'alice', 'alice-password');
    expect(identity?.claims).toMatchObject({ dn: `uid=alice,ou=people,${SUFFIX}`, uid: ['alice'], mail: ['alice@example.org'], cn: ['Alice Liddell'] });
    expect(identity?.claims).not.toHaveProperty('sn');
  });

  it('asks the directory for the attributes the rules name, or for all of them', async () => {
    const factory = connectorFactory('ldap')!;
    const named = (await factory.open(factory.configSchema.parse(baseConfig()), { ...testContext('ldap'), claimNames: new Set(['sn', 'uid']) })) as LDAPConnector;
    expect((await named.login(scopes, 'alice', 'alice-password'))?.claims).toEqual({ dn: `uid=alice,ou=people,${SUFFIX}`, sn: ['Liddell'], uid: ['alice'] });
    const all = (await factory.open(factory.configSchema.parse(baseConfig()), { ...testContext('ldap'), claimNames: 'all' })) as LDAPConnector;
    expect((await all.login(scopes, 'alice', 'alice-password'))?.claims).toMatchObject({ sn: ['Liddell'], objectClass: ['inetOrgPerson'] });
  });
});

describe('ldap connector: TLS', () => {
  const tlsConfig = () => ({ host: `127.0.0.1:${slapd.tlsPort}`, insecureNoSSL: false });
  it('logs in over ldaps:// trusting rootCA', async () => {
    const connector = await open({ ...tlsConfig(), rootCA: slapd.caFile });
    expect((await connector.login(scopes, 'alice', 'alice-password'))?.email).toBe('alice@example.org');
  });

  it('refuses a server certificate that is not trusted', async () => {
    const connector = await open(tlsConfig());
    const error = await refusal(connector.login(scopes, 'alice', 'alice-password'));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toMatch(/certificate/i);
  });

  it('upgrades with StartTLS on the plain port', async () => {
    const { readFile } = await import('node:fs/promises');
    const rootCAData = (await readFile(slapd.caFile)).toString('base64');
    const connector = await open({ host: `127.0.0.1:${slapd.port}`, insecureNoSSL: false, startTLS: true, rootCAData });
    expect((await connector.login(scopes, 'bob', 'bob-password'))?.groups).toEqual(['devs']);
  });
});

describe('ldap connector: refresh', () => {
  it('re-reads the entry and its groups', async () => {
    const connector = await open();
    const identity = (await connector.login(scopes, 'bob', 'bob-password')) as Identity;
    await slapd.ldapadd(`dn: cn=ops,ou=groups,${SUFFIX}\nobjectClass: groupOfNames\ncn: ops\nmember: uid=bob,ou=people,${SUFFIX}\n`);
    const refreshed = await connector.refresh(scopes, identity);
    expect(refreshed).toMatchObject({ userId: identity.userId, username: 'Bob', groups: ['ops', 'devs'] });
  });

  it('refuses to refresh a user removed from the directory', async () => {
    await slapd.ldapadd(`dn: uid=carol,ou=people,${SUFFIX}\nobjectClass: inetOrgPerson\nuid: carol\ncn: Carol\nsn: C\nmail: carol@example.org\nuserPassword: carol-password\n`);
    const connector = await open();
    const identity = (await connector.login(scopes, 'carol', 'carol-password')) as Identity;
    await asAdmin((client) => client.del(`uid=carol,ou=people,${SUFFIX}`));
    const error = await refusal(connector.refresh(scopes, identity));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/"carol" is no longer in the directory/);
  });
});

describe('ldap connector: config', () => {
  it('refuses insecureNoSSL with startTLS, and allowedGroups without groupSearch', () => {
    const result = connectorFactory('ldap')!.configSchema.safeParse({
      host: 'ldap.example.org', insecureNoSSL: true, startTLS: true, allowedGroups: ['x'],
      userSearch: { baseDN: SUFFIX, username: 'uid' },
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['startTLS', 'allowedGroups']));
  });
});
