/**
 * Starts a real filter (gRPC + HTTP listeners on free ports) over policies written to a temp dir, with
 * audit lines captured in memory; and mints the decision table's named tokens.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { SignJWT } from 'jose';
import { parseFilterConfig, type FilterConfigInput } from '../../../src/authz/config.js';
import { startFilter, type RunningFilter, type StartFilterOptions } from '../../../src/authz/index.js';
import type { VerificationKeySet } from '../../../src/keys/keyset.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import type { Tracing } from '../../../src/telemetry/tracing.js';
import { ISSUER_A, ISSUER_B } from '../fixtures/decision-policies.js';
import type { TokenName } from '../fixtures/decision-cases.js';
import { jwksOf, mint, tamper, testKey, unsignedToken, type TestKey } from './tokens.js';

export interface FilterFixture {
  filter: RunningFilter;
  dir: string;
  registry: Registry;
  audit: string[];
  close(): Promise<void>;
}

export async function writePolicies(files: Record<string, string>, dir?: string): Promise<string> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'idgate-policies-')));
  for (const [name, text] of Object.entries(files)) await writeFile(join(target, name), text);
  return target;
}

export async function startFilterFixture(
  files: Record<string, string>,
  config: Partial<FilterConfigInput> = {},
  extra: { now?: () => number; keySet?: VerificationKeySet; issuer?: string; logger?: Logger; tracing?: Tracing } & Pick<StartFilterOptions, 'revocations' | 'revoke'> = {},
): Promise<FilterFixture> {
  const dir = await writePolicies(files);
  const registry = new Registry();
  const audit: string[] = [];
  const filter = await startFilter({
    config: parseFilterConfig({ grpc: '127.0.0.1:0', http: '127.0.0.1:0', policies: [dir], watch: false, ...config }),
    logger: silentLogger(),
    registry,
    auditSink: { write: (line) => void audit.push(line) },
    ...extra,
  });
  return {
    filter, dir, registry, audit,
    close: async () => {
      await filter.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TableKeys {
  rsaA: TestKey;
  ecA: TestKey;
  rsaB: TestKey;
  other: TestKey;
}

export async function tableKeys(): Promise<TableKeys> {
  return { rsaA: await testKey('a-rsa'), ecA: await testKey('a-ec', 'ES256'), rsaB: await testKey('b-rsa'), other: await testKey('a-rsa') };
}

export function tableJwks(keys: TableKeys): { jwksA: string; jwksB: string } {
  return { jwksA: JSON.stringify(jwksOf(keys.rsaA, keys.ecA)), jwksB: JSON.stringify(jwksOf(keys.rsaB)) };
}

export async function tableTokens(keys: TableKeys): Promise<Record<TokenName, string>> {
  const alice = { iss: ISSUER_A, sub: 'alice', groups: ['admins'], email: 'alice@example.com', org: { team: 'platform' }, aud: 'svc-a', azp: 'web-app', scope: 'read write' };
  const aliceToken = await mint(keys.rsaA, alice);
  return {
    alice: aliceToken,
    bob: await mint(keys.rsaA, { iss: ISSUER_A, sub: 'bob', groups: ['readers'], scope: 'read' }),
    admin1: await mint(keys.rsaA, { iss: ISSUER_A, sub: 'admin1' }),
    root: await mint(keys.rsaA, { iss: ISSUER_A, sub: 'root' }),
    gold: await mint(keys.rsaA, { iss: ISSUER_A, sub: 'carol', tier: 'gold' }),
    expired: await mint(keys.rsaA, { iss: ISSUER_A, sub: 'alice' }, { expiresIn: -120 }),
    withinSkew: await mint(keys.rsaA, { iss: ISSUER_A, sub: 'alice' }, { expiresIn: -30 }),
    notYet: await mint(keys.rsaA, { iss: ISSUER_A, sub: 'alice' }, { notBefore: 300 }),
    badSig: tamper(aliceToken, { ...alice, groups: ['admins', 'root'] }),
    unknownIssuer: await mint(keys.rsaA, { iss: 'https://nobody.example', sub: 'x' }),
    none: unsignedToken({ iss: ISSUER_A, sub: 'alice' }),
    unknownKid: await mint(keys.rsaA, { iss: ISSUER_A, sub: 'alice' }, { kid: 'nope' }),
    es256: await mint(keys.ecA, { iss: ISSUER_A, sub: 'eve' }),
    algKeyMismatch: await mint(keys.ecA, { iss: ISSUER_A, sub: 'eve' }, { kid: 'a-rsa' }),
    malformed: 'abc.def',
    issuerB: await mint(keys.rsaB, { iss: ISSUER_B, sub: 'svc', aud: ['api-b'] }),
    issuerBWrongAud: await mint(keys.rsaB, { iss: ISSUER_B, sub: 'svc', aud: 'other' }),
    hs256: await new SignJWT({ iss: ISSUER_A, sub: 'alice' }).setProtectedHeader({ alg: 'HS256', kid: 'a-rsa' }).setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(32))),
  };
}
