/**
 * The move from Dex, as a specification run on each Dex storage flavor: `idgate import dex` from a
 * database Dex's own schema and encodings built, into a real idgate storage, then a real issuer on it:
 * Dex's refresh tokens refreshed (openid-client and plain POSTs), Dex-signed ID tokens verified against
 * idgate's /keys (jose's createRemoteJWKSet), the imported password signing in, conflicts refused.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { manualClock } from '../../src/clock.js';
import { hashSecret, hashToken } from '../../src/storage/secrets.js';
import type { Storage } from '../../src/storage/storage.js';
import type { RefreshFamily } from '../../src/oidc/token/refresh-family.js';
import { followLogin } from '../helpers/http-login.js';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { insertClient, insertRefresh, type DexDatabaseHandle } from './dex-database.js';
import {
  DEX_APP, DEX_CLI, DEX_EXAMPLE_SUB, EXAMPLE_APP, FAMILIES, JANE, dexFamilyRow, dexRefreshToken, dexSecrets, dexSubject,
  fillDexDatabase, idgateConfigYaml, type DexScenario,
} from './dex-scenario.js';

export interface DexImportSetup {
  dex: DexDatabaseHandle;
  /** `--from ...` (and `--schema ...`) for this Dex database. */
  fromArgs: string[];
  /** idgate's `storage:` section. */
  storageYaml: string;
  openStorage(): Promise<Storage>;
  /** Every stored record's JSON, as the backend keeps it. */
  rawRecords(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** A client and a session added to Dex's database after the first import. */
const LATE = { id: 'late-app', secret: 'late-app-secret', family: 'l7tefamilyaddedafterimport', token: 'p3kq7vnz2wlt6mrx4bycd5jfha', obsolete: '' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface TokenBody {
  access_token: string;
  id_token: string;
  refresh_token: string;
}

export function describeDexImport(flavor: string, setup: () => Promise<DexImportSetup>): void {
  describe(`idgate import dex from Dex's ${flavor} storage`, () => {
    let made: DexImportSetup;
    let dir: string;
    let configFile: string;
    let scenario: DexScenario;
    let storage: Storage;
    let idp: TestIssuer;
    const clock = manualClock(Date.now());

    const runImport = async (...extra: string[]): Promise<Run> => {
      const out = { stdout: '', stderr: '' };
      const code = await main(['import', 'dex', '--config', configFile, ...made.fromArgs, ...extra], {
        stdout: (text) => void (out.stdout += text),
        stderr: (text) => void (out.stderr += text),
      });
      return { code, ...out };
    };
    const post = (form: Record<string, string>, basic?: { id: string; secret: string }) =>
      fetch(`${idp.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(basic ? { authorization: `Basic ${Buffer.from(`${basic.id}:${basic.secret}`).toString('base64')}` } : {}),
        },
        body: new URLSearchParams(form),
      });
    const refreshAsApp = (token: string) => post({ grant_type: 'refresh_token', refresh_token: token }, DEX_APP);
    const refreshAsCli = (token: string) => post({ grant_type: 'refresh_token', refresh_token: token, client_id: DEX_CLI.id });
    const errorOf = async (response: Response) => ({ status: response.status, error: ((await response.json()) as { error: string }).error });

    beforeAll(async () => {
      made = await setup();
      scenario = await fillDexDatabase(made.dex);
      dir = await mkdtemp(path.join(tmpdir(), 'idgate-import-dex-'));
      configFile = path.join(dir, 'idgate.yaml');
      await writeFile(configFile, `issuer: http://127.0.0.1:5556/dex\n${idgateConfigYaml(made.storageYaml)}`);
    });
    afterAll(async () => {
      await idp?.close();
      await storage?.close();
      await made?.dex.close();
      await made?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('dry run: prints what would be imported, by count and ID, never a secret, and writes nothing', async () => {
      const run = await runImport('--dry-run');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('schema version 13 (Dex v2.45.x)');
      expect(run.stdout).toMatch(/clients\s+2 {2}dex-app, dex-cli\n/);
      expect(run.stdout).toMatch(/passwords\s+1 {2}jane@example.com\n/);
      expect(run.stdout).toMatch(/connectors\s+1 {2}dex-mock\n/);
      expect(run.stdout).toMatch(new RegExp(`refresh tokens\\s+3 {2}${[FAMILIES.cli.id, FAMILIES.app.id, FAMILIES.example.id].sort().join(', ')}\\n`));
      expect(run.stdout).toMatch(/keys\s+2 {2}/);
      expect(run.stdout).toContain('dry run: nothing written');
      for (const secret of [...dexSecrets(scenario), '$2a$']) expect(run.stdout).not.toContain(secret);
      expect(await made.rawRecords()).toEqual([]);
    });

    it('imports, leaving what the config defines and saying what cannot carry over', async () => {
      const run = await runImport();
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('imported:');
      expect(run.stdout).toContain("client example-app: defined in the config");
      expect(run.stdout).toContain('password admin@example.com: defined in the config');
      expect(run.stdout).toContain('connector mock: defined in the config');
      expect(run.stdout).toMatch(/connector keystone1: type "keystone" is not a connector type idgate has/);
      expect(run.stdout).toContain(`refresh token ${FAMILIES.legacy.id}: it has no token secret`);
      expect(run.stdout).toContain(`refresh token ${FAMILIES.stale.id}: it has expired under idgate's expiry.refreshTokens`);
      expect(run.stdout).toContain(`key ${scenario.expired.kid}: Dex's verification key expired`);
      for (const secret of [...dexSecrets(scenario), '$2a$']) expect(run.stdout).not.toContain(secret);

      storage = await made.openStorage();
      expect(await storage.clients.get(DEX_APP.id)).toMatchObject({ secretHash: hashSecret(DEX_APP.secret), redirectURIs: [DEX_APP.redirectURI], public: false, name: 'Dex App' });
      expect(await storage.clients.get(DEX_CLI.id)).toMatchObject({ secretHash: null, public: true });
      expect(await storage.clients.get(EXAMPLE_APP.id)).toBeUndefined();
      expect(await storage.passwords.get(JANE.email)).toMatchObject({ userId: JANE.userId, username: JANE.name, preferredUsername: JANE.preferredUsername, groups: JANE.groups });
      expect(await storage.connectors.get('dex-mock')).toMatchObject({ type: 'mockCallback', name: 'Dex Mock' });
      expect(await storage.connectors.get('keystone1')).toBeUndefined();
      const imported = (await storage.refreshTokens.get(FAMILIES.app.id)) as RefreshFamily;
      expect(imported).toMatchObject({
        clientId: DEX_APP.id, connectorId: 'local', importedFrom: 'dex', tokenHash: hashToken(FAMILIES.app.token),
        obsoleteTokenHash: hashToken(FAMILIES.app.obsolete), identity: { userId: JANE.userId, email: JANE.email },
      });
      expect(imported.createdAt).toBe(scenario.now - 2 * 86_400_000);
      expect(await storage.refreshTokens.get(FAMILIES.legacy.id)).toBeUndefined();
      expect(await storage.refreshTokens.get(FAMILIES.stale.id)).toBeUndefined();
      const keys = await storage.keys.get('signing');
      const verification = keys!.verificationKeys.map((entry) => entry.publicKey.kid);
      expect(verification).toEqual(expect.arrayContaining([scenario.signing.kid, scenario.previous.kid]));
      expect(verification).not.toContain(scenario.expired.kid);
      expect(keys!.signingKeyPub!.kid).not.toBe(scenario.signing.kid);
      // Hashes only: no Dex secret, token or private key is anywhere in idgate's storage.
      const raw = (await made.rawRecords()).join('\n');
      for (const secret of dexSecrets(scenario)) expect(raw).not.toContain(secret);

      idp = await startTestIssuer({ configYaml: idgateConfigYaml(made.storageYaml), storage, now: clock });
    });

    it("refreshes a Dex-issued refresh token into idgate's tokens, with the sub Dex issued", async () => {
      const dexToken = dexRefreshToken(FAMILIES.app.id, FAMILIES.app.token);
      // A wrong secret in Dex's format is refused, and does not end the session.
      expect(await errorOf(await refreshAsApp(dexRefreshToken(FAMILIES.app.id, 'wrongsecretwrongsecret2345')))).toEqual({ status: 400, error: 'invalid_grant' });

      const rp = await client.discovery(new URL(idp.url), DEX_APP.id, DEX_APP.secret, undefined, { execute: [client.allowInsecureRequests] });
      client.enableNonRepudiationChecks(rp);
      const tokens = await client.refreshTokenGrant(rp, dexToken);
      const claims = tokens.claims()!;
      expect(claims.sub).toBe(DEX_EXAMPLE_SUB);
      expect(claims.sub).toBe(dexSubject(JANE.userId, 'local'));
      expect(claims).toMatchObject({ iss: idp.url, aud: DEX_APP.id, email: JANE.email, name: JANE.name, groups: JANE.groups, sid: FAMILIES.app.id });
      expect(decodeJwt(tokens.access_token).sub).toBe(DEX_EXAMPLE_SUB);
      expect(tokens.refresh_token!.startsWith(`${FAMILIES.app.id}.`)).toBe(true);
      const kid = decodeProtectedHeader(tokens.id_token!).kid;
      expect([scenario.signing.kid, scenario.previous.kid]).not.toContain(kid);
      const rotated = (await storage.refreshTokens.get(FAMILIES.app.id)) as RefreshFamily;
      expect(rotated.tokenHash).not.toBe(hashToken(FAMILIES.app.token));
      expect(rotated.obsoleteTokenHash).toBe(hashToken(FAMILIES.app.token));

      // Within reuseInterval (3s) the Dex token is answered with the same idgate token, as idgate does.
      clock.advance(1000);
      const replay = (await (await refreshAsApp(dexToken)).json()) as TokenBody;
      expect(replay.refresh_token).toBe(tokens.refresh_token);

      // After it, presenting the Dex token again is reuse of a rotated token: refused, the session ended.
      clock.advance(5000);
      expect(await errorOf(await refreshAsApp(dexToken))).toEqual({ status: 400, error: 'invalid_grant' });
      expect(await errorOf(await refreshAsApp(tokens.refresh_token!))).toEqual({ status: 400, error: 'invalid_grant' });
      expect(await storage.refreshTokens.get(FAMILIES.app.id)).toBeUndefined();
    });

    it("keeps the session going on idgate's tokens once the Dex token has rotated (a public client)", async () => {
      const first = await refreshAsCli(dexRefreshToken(FAMILIES.cli.id, FAMILIES.cli.token));
      expect(first.status).toBe(200);
      const body = (await first.json()) as TokenBody;
      expect(decodeJwt(body.id_token).sub).toBe(DEX_EXAMPLE_SUB);
      clock.advance(1000);
      const second = await refreshAsCli(body.refresh_token);
      expect(second.status).toBe(200);
      const next = (await second.json()) as TokenBody;
      expect(decodeJwt(next.id_token).sub).toBe(DEX_EXAMPLE_SUB);
      expect(next.refresh_token).not.toBe(body.refresh_token);
    });

    it("treats Dex's previous token as a reused one: refused, and the session ends", async () => {
      const previous = dexRefreshToken(FAMILIES.example.id, FAMILIES.example.obsolete);
      expect(await errorOf(await post({ grant_type: 'refresh_token', refresh_token: previous }, EXAMPLE_APP))).toEqual({ status: 400, error: 'invalid_grant' });
      const current = dexRefreshToken(FAMILIES.example.id, FAMILIES.example.token);
      expect(await errorOf(await post({ grant_type: 'refresh_token', refresh_token: current }, EXAMPLE_APP))).toEqual({ status: 400, error: 'invalid_grant' });
    });

    it("accepts Dex's format only for families imported from Dex", async () => {
      const now = clock();
      const native: RefreshFamily = {
        id: 'nativefamily2a3b4c5d6e7f2a', clientId: DEX_APP.id, connectorId: 'local', scopes: ['openid', 'email', 'offline_access'],
        identity: { userId: JANE.userId, username: JANE.name, email: JANE.email, emailVerified: true },
        authTime: Math.floor(now / 1000), tokenHash: hashToken('native-secret-value'), createdAt: now, lastUsedAt: now, expiresAt: now + 86_400_000,
      };
      await storage.refreshTokens.create(native);
      expect(await errorOf(await refreshAsApp(dexRefreshToken(native.id, 'native-secret-value')))).toEqual({ status: 400, error: 'invalid_grant' });
      expect((await refreshAsApp(`${native.id}.native-secret-value`)).status).toBe(200);
    });

    it('signs the imported person in with the Dex password, under the same sub', async () => {
      const rp = await client.discovery(new URL(idp.url), DEX_APP.id, DEX_APP.secret, undefined, { execute: [client.allowInsecureRequests] });
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const authURL = client.buildAuthorizationUrl(rp, {
        redirect_uri: DEX_APP.redirectURI, scope: 'openid email profile', state, connector_id: 'local',
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      });
      const callback = await followLogin(authURL.toString(), { redirectURI: DEX_APP.redirectURI, username: JANE.email, password: JANE.password });
      const tokens = await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
      expect(tokens.claims()).toMatchObject({ sub: DEX_EXAMPLE_SUB, name: JANE.name, email: JANE.email });
    });

    it("verifies ID tokens Dex signed against idgate's /keys until they expire", async () => {
      const jwks = createRemoteJWKSet(new URL(`${idp.url}/keys`));
      for (const key of [scenario.signing, scenario.previous]) {
        const { payload } = await jwtVerify(await scenario.signAsDex(key, idp.url), jwks, { issuer: idp.url, audience: DEX_APP.id });
        expect(payload.sub).toBe(DEX_EXAMPLE_SUB);
      }
      await expect(jwtVerify(await scenario.signAsDex(scenario.expired, idp.url), jwks)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
      // The kid of Dex's key on a token signed with another key: the signature, not the kid, decides.
      const forged = await scenario.signAsDex({ ...scenario.previous, kid: scenario.signing.kid }, idp.url);
      await expect(jwtVerify(forged, jwks)).rejects.toBeInstanceOf(joseErrors.JWSSignatureVerificationFailed);
      const published = ((await (await fetch(`${idp.url}/keys`)).json()) as { keys: JWK[] }).keys;
      expect(published.some((key) => 'd' in key || 'p' in key)).toBe(false);
      expect(published.map((key) => key.kid)).toContain(scenario.signing.kid);
    });

    it('reports conflicts and never overwrites: nothing is written without --skip-existing', async () => {
      await storage.clients.update(DEX_APP.id, (current) => ({ ...current, name: 'Renamed in idgate' }));
      const cliFamily = (await storage.refreshTokens.get(FAMILIES.cli.id)) as RefreshFamily;
      await insertClient(made.dex, { id: LATE.id, secret: LATE.secret, redirectURIs: ['http://127.0.0.1:5555/late'], trustedPeers: null, public: false, name: 'Late' });
      await insertRefresh(made.dex, dexFamilyRow(LATE.family, LATE.id, LATE, { createdAt: scenario.now, lastUsed: scenario.now }));

      const refused = await runImport();
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/conflict\(s\) with idgate's storage; nothing was written/);
      expect(refused.stdout).toContain("client dex-app: already in idgate's storage");
      expect(refused.stdout).toContain(`refresh token ${FAMILIES.cli.id}: already in idgate's storage`);
      expect(refused.stdout).toContain(`refresh token ${FAMILIES.app.id}: revoked in idgate since an earlier import`);
      expect(refused.stdout).toContain(`key ${scenario.signing.kid}: a key with this kid is already in idgate's key set`);
      expect(await storage.clients.get(LATE.id)).toBeUndefined();

      const skipped = await runImport('--skip-existing');
      expect(skipped.code).toBe(0);
      expect(skipped.stdout).toMatch(/clients\s+1 {2}late-app\n/);
      expect(skipped.stdout).toMatch(new RegExp(`refresh tokens\\s+1 {2}${LATE.family}\\n`));
      expect(await storage.clients.get(LATE.id)).toMatchObject({ secretHash: hashSecret(LATE.secret) });
      expect((await storage.clients.get(DEX_APP.id))!.name).toBe('Renamed in idgate');
      expect(((await storage.refreshTokens.get(FAMILIES.cli.id)) as RefreshFamily).tokenHash).toBe(cliFamily.tokenHash);
      expect(await storage.refreshTokens.get(FAMILIES.app.id)).toBeUndefined();
    });

    it("revokes an imported session given Dex's token at /token/revoke, and only an imported one", async () => {
      const revoke = (token: string, as: { id: string; secret: string }) => fetch(`${idp.url}/token/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${as.id}:${as.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token }),
      });
      const nativeAsDex = dexRefreshToken('nativefamily2a3b4c5d6e7f2a', 'native-secret-value');
      expect((await revoke(nativeAsDex, DEX_APP)).status).toBe(200);
      expect(await storage.refreshTokens.get('nativefamily2a3b4c5d6e7f2a')).toBeDefined();
      expect((await revoke(dexRefreshToken(LATE.family, LATE.token), LATE)).status).toBe(200);
      expect(await storage.refreshTokens.get(LATE.family)).toBeUndefined();
    });
  });
}
