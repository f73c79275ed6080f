/**
 * The Dex deployment the import tests move to idgate, the same on SQLite and PostgreSQL: clients,
 * passwords, connectors, three refresh-token families with their offline session, and Dex's signing
 * keys (go-jose JWKs, private key included, as Dex's keys table holds them). Dex's wire formats come
 * from protobufjs over Dex's own types.proto, independent of idgate's code.
 */
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import protobuf from 'protobufjs';
import {
  insertClient, insertConnector, insertKeys, insertOfflineSession, insertPassword, insertRefresh,
  type DexDatabaseHandle, type DexRefreshRow,
} from './dex-database.js';

const root = protobuf.loadSync(fileURLToPath(new URL('../fixtures/dex-sql/types.proto', import.meta.url)));
const RefreshTokenMessage = root.lookupType('internal.RefreshToken');
const SubjectMessage = root.lookupType('internal.IDTokenSubject');

/** A refresh token as Dex hands it out: base64url (raw) of the protobuf RefreshToken. */
export function dexRefreshToken(refreshId: string, token: string): string {
  return Buffer.from(RefreshTokenMessage.encode(RefreshTokenMessage.create({ refreshId, token })).finish()).toString('base64url');
}

/** `sub` as Dex computes it (GenSubject). */
export function dexSubject(userId: string, connId: string): string {
  return Buffer.from(SubjectMessage.encode(SubjectMessage.create({ userId, connId })).finish()).toString('base64url');
}

/** Dex's own test vector (examples/example-app/server/subject_test.go) for this user at `local`. */
export const DEX_EXAMPLE_SUB = 'CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const JANE = {
  email: 'jane@example.com',
  password: 'jane-password',
  userId: '08a8684b-db88-4b73-90a9-3cd1661f5466',
  username: 'jane',
  name: 'Jane Doe',
  preferredUsername: 'jdoe',
  groups: ['dex-admins'],
};

export const DEX_APP = { id: 'dex-app', secret: 'dex-app-secret-7f3a9', redirectURI: 'http://127.0.0.1:5555/dex-app/callback' };
export const DEX_CLI = { id: 'dex-cli', redirectURI: 'http://127.0.0.1:5555/cli/callback' };
/** Static in idgate's config; Dex's database has its own copy, with another secret. */
export const EXAMPLE_APP = { id: 'example-app', secret: 'ZXhhbXBsZS1hcHAtc2VjcmV0', dexSecret: 'dex-copy-of-example-secret' };
export const ADMIN = { email: 'admin@example.com', userId: 'a1b2c3d4-0000-4000-8000-000000000001' };

/** Dex IDs and secrets are storage.NewID(): 26 characters of lowercase base32. */
export const FAMILIES = {
  /** jane at dex-app: the Dex token that is refreshed, replayed, then reused. */
  app: { id: 'cz6kq3vkxlxm2mbiwjdnaj6p4e', token: 'wm7fnz2ahdqz4tb5xqkuoy3rle', obsolete: 'j3lqn6rzzuyk5ht2d7xwqa4vbe' },
  /** jane at dex-cli (public): the Dex token whose idgate successor keeps working. */
  cli: { id: 'rq5n2bqkuzf7c3mvp4hx6yt2ga', token: 'f4zkq2hyxwc7djl3mrb5tnuv6e', obsolete: 'b6xq3k2mlzr7tnyv4hwjc5dfpa' },
  /** jane at example-app: Dex's previous (obsolete) token is presented. */
  example: { id: 'x2p7lqvd3rzt6kmbn4hcyaw5fe', token: 'k7vq2wnm3zt6xrly4bdhjc5fpe', obsolete: 'v5mzq2lnx7t3kcrb6ywdh4jfpa' },
  /** A token of a Dex too old to keep a secret. */
  legacy: { id: 'l3gacy2tokenwithn0secretaa', token: '', obsolete: '' },
  /** Unused for 60 days; idgate's validIfNotUsedFor is 30. */
  stale: { id: 's7alet0kenunusedfor60dayse', token: 'h2kq7vnz3wlt6mrx4bycd5jfpa', obsolete: '' },
} as const;

export interface DexKey {
  kid: string;
  privateJwk: JWK;
  /** As go-jose marshals Dex's *jose.JSONWebKey. */
  goJosePrivate: Record<string, unknown>;
  goJosePublic: Record<string, unknown>;
}

async function dexKey(kid: string): Promise<DexKey> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const { n, e, d, p, q, dp, dq, qi } = jwk;
  return {
    kid,
    privateJwk: { ...jwk, kid, alg: 'RS256' },
    goJosePrivate: { use: 'sig', kty: 'RSA', kid, alg: 'RS256', n, e, d, p, q, dp, dq, qi },
    goJosePublic: { use: 'sig', kty: 'RSA', kid, alg: 'RS256', n, e },
  };
}

/** Go's RFC 3339 with nanoseconds (time.Time in JSON), in a zone `offsetMinutes` east of UTC. */
function goJsonTime(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  const zone = offsetMinutes === 0 ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}123456${zone}`;
}

export interface DexScenario {
  now: number;
  /** Dex's current signing key, a verification key still valid, one that expired. */
  signing: DexKey;
  previous: DexKey;
  expired: DexKey;
  /** Signs a token as Dex would have, with `key`. */
  signAsDex(key: DexKey, issuer: string, claims?: Record<string, unknown>): Promise<string>;
}

/** A refresh_token row of jane's (or `user`'s) as Dex writes it. */
export function dexFamilyRow(
  id: string, clientId: string, secrets: { token: string; obsolete: string },
  times: { createdAt: number; lastUsed: number }, user = JANE, connectorId = 'local',
): DexRefreshRow {
  return {
    id, clientId, scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'], nonce: 'dex-nonce',
    claims: { userId: user.userId, username: user.name, preferredUsername: user.preferredUsername, email: user.email, emailVerified: true, groups: user.groups },
    connectorId, connectorData: null, token: secrets.token, obsoleteToken: secrets.obsolete,
    createdAt: new Date(times.createdAt), lastUsed: new Date(times.lastUsed),
  };
}

/** Fills `db` as a running Dex would have; `now` is the moment of the move. */
export async function fillDexDatabase(db: DexDatabaseHandle, now = Date.now()): Promise<DexScenario> {
  const [signing, previous, expired] = await Promise.all([
    dexKey('5d1c7e0b9a3f42e6b8c1d2a3f4e5b6c7d8e9f0a1'),
    dexKey('0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b'),
    dexKey('ffeeddccbbaa99887766554433221100ffeeddcc'),
  ]);
  await insertClient(db, { id: DEX_APP.id, secret: DEX_APP.secret, redirectURIs: [DEX_APP.redirectURI], trustedPeers: null, public: false, name: 'Dex App', logoURL: 'https://dex-app.example/logo.png' });
  await insertClient(db, { id: DEX_CLI.id, secret: '', redirectURIs: [DEX_CLI.redirectURI], trustedPeers: null, public: true, name: 'Dex CLI' });
  await insertClient(db, { id: EXAMPLE_APP.id, secret: EXAMPLE_APP.dexSecret, redirectURIs: ['https://example.invalid/callback'], trustedPeers: null, public: false, name: "Dex's copy" });
  await insertPassword(db, {
    email: JANE.email, hash: bcrypt.hashSync(JANE.password, 10), username: JANE.username, userId: JANE.userId,
    name: JANE.name, preferredUsername: JANE.preferredUsername, groups: JANE.groups, emailVerified: true,
  });
  await insertPassword(db, { email: ADMIN.email, hash: bcrypt.hashSync('not-the-config-password', 10), username: 'dex-admin', userId: 'dex-admin-id' });
  await insertConnector(db, { id: 'dex-mock', type: 'mockCallback', name: 'Dex Mock', config: {} });
  await insertConnector(db, { id: 'mock', type: 'mockCallback', name: "Dex's mock", config: {} });
  await insertConnector(db, { id: 'keystone1', type: 'keystone', name: 'Keystone', config: { host: 'https://keystone.example', domain: 'default' } });

  const used = { createdAt: now - 2 * DAY, lastUsed: now - HOUR };
  await insertRefresh(db, dexFamilyRow(FAMILIES.app.id, DEX_APP.id, FAMILIES.app, used));
  await insertRefresh(db, dexFamilyRow(FAMILIES.cli.id, DEX_CLI.id, FAMILIES.cli, used));
  await insertRefresh(db, dexFamilyRow(FAMILIES.example.id, EXAMPLE_APP.id, FAMILIES.example, used));
  await insertRefresh(db, dexFamilyRow(FAMILIES.legacy.id, DEX_APP.id, FAMILIES.legacy, used, { ...JANE, userId: 'legacy-user', email: 'legacy@example.com' }));
  await insertRefresh(db, dexFamilyRow(FAMILIES.stale.id, DEX_APP.id, FAMILIES.stale, { createdAt: now - 90 * DAY, lastUsed: now - 60 * DAY }, { ...JANE, userId: 'stale-user', email: 'stale@example.com' }));
  const ref = (id: string) => ({ id, createdAt: new Date(used.createdAt), lastUsed: new Date(used.lastUsed) });
  await insertOfflineSession(db, {
    userId: JANE.userId, connId: 'local', connectorData: null,
    refresh: { [DEX_APP.id]: ref(FAMILIES.app.id), [DEX_CLI.id]: ref(FAMILIES.cli.id), [EXAMPLE_APP.id]: ref(FAMILIES.example.id) },
  });
  await insertKeys(db, {
    signingKey: signing.goJosePrivate,
    signingKeyPub: signing.goJosePublic,
    verificationKeys: [
      { publicKey: previous.goJosePublic, expiry: goJsonTime(now + 12 * HOUR, 120) },
      { publicKey: expired.goJosePublic, expiry: goJsonTime(now - HOUR, 0) },
    ],
    nextRotation: new Date(now + 5 * HOUR),
  });
  return {
    now, signing, previous, expired,
    async signAsDex(key, issuer, claims = {}) {
      const iat = Math.floor(Date.now() / 1000);
      return new SignJWT({ sub: DEX_EXAMPLE_SUB, aud: DEX_APP.id, email: JANE.email, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(issuer).setIssuedAt(iat).setExpirationTime(iat + 3600)
        .sign(key.privateJwk);
    },
  };
}

/** The idgate config of the move (without `issuer:`), over `storageYaml`. */
export function idgateConfigYaml(storageYaml: string): string {
  return `${storageYaml}
web:
  http: 127.0.0.1:0
oauth2:
  skipApprovalScreen: true
expiry:
  refreshTokens: {reuseInterval: 3s, validIfNotUsedFor: 720h}
staticClients:
  - id: ${EXAMPLE_APP.id}
    name: Example App
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [http://127.0.0.1:5555/callback]
connectors:
  - {type: mockCallback, id: mock, name: Mock}
enablePasswordDB: true
staticPasswords:
  - email: ${ADMIN.email}
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: ${ADMIN.userId}
`;
}

/** Every value of the Dex database that must never reach idgate's storage or the import's output. */
export function dexSecrets(scenario: DexScenario): string[] {
  return [
    DEX_APP.secret, EXAMPLE_APP.dexSecret,
    ...Object.values(FAMILIES).flatMap((entry) => [entry.token, entry.obsolete]).filter((value) => value !== ''),
    ...[scenario.signing, scenario.previous, scenario.expired].map((key) => String(key.privateJwk.d)),
  ];
}
