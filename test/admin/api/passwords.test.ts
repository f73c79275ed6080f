/**
 * Dex's password RPCs against a whole issuer: an entry created with a bcrypt hash (Dex takes hashes,
 * never passwords) logs in at once; VerifyPassword checks the bcrypt; an update changes which password
 * works; a deleted entry no longer logs in. Dex's cost bounds, flags and read-only config entries.
 */
import { status } from '@grpc/grpc-js';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { subjectOf } from '../../../src/oidc/claims.js';
import { ADMIN, EXAMPLE_APP } from '../../helpers/issuer.js';
import { failure, logIn, relyingParty, useApiIssuer } from './harness.js';

const suite = useApiIssuer();
const JANE = { email: 'Jane@Example.com', userId: 'jane-1', username: 'Jane Doe', password: 'correct horse battery' };
const NEW_PASSWORD = 'staple tangerine';

const hashOf = (password: string, cost = 10) => Buffer.from(bcrypt.hashSync(password, cost));

async function logInAs(username: string, password: string) {
  return logIn(await relyingParty(suite.server.idp.url, EXAMPLE_APP.id, EXAMPLE_APP.secret), { redirectURI: EXAMPLE_APP.redirectURI, username, password, scope: 'openid email profile' });
}

describe('password entries through the API', () => {
  it('creates an entry from a bcrypt hash (email lowercased) that logs in at once', async () => {
    const created = await suite.server.admin.call('CreatePassword', { password: { email: JANE.email, hash: hashOf(JANE.password), username: JANE.username, user_id: JANE.userId } });
    expect(created).toEqual({ already_exists: false });
    const tokens = await logInAs('jane@example.com', JANE.password);
    expect(tokens.claims()).toMatchObject({ sub: subjectOf(JANE.userId, 'local'), email: 'jane@example.com', name: JANE.username });
    expect(suite.server.auditLines().find((line) => line.type === 'password_created')).toMatchObject({ outcome: 'succeeded', actor: suite.certs.clientSubject, userId: JANE.userId });
  });

  it('verifies the password against the bcrypt hash: right, wrong, and an unknown email', async () => {
    expect(await suite.server.admin.call('VerifyPassword', { email: 'jane@example.com', password: JANE.password })).toEqual({ verified: true, not_found: false });
    expect(await suite.server.admin.call('VerifyPassword', { email: 'JANE@example.com', password: 'wrong' })).toEqual({ verified: false, not_found: false });
    expect(await suite.server.admin.call('VerifyPassword', { email: 'nobody@example.com', password: 'x' })).toEqual({ verified: false, not_found: true });
    expect(await suite.server.admin.call('VerifyPassword', { email: ADMIN.email, password: ADMIN.password })).toEqual({ verified: true, not_found: false });
    expect((await failure(suite.server.admin.call('VerifyPassword', { email: 'jane@example.com', password: '' }))).code).toBe(status.INVALID_ARGUMENT);
    const verifications = suite.server.auditLines().filter((line) => line.type === 'password_verified');
    expect(verifications.map((line) => [line.outcome, line.reason ?? null])).toEqual([
      ['succeeded', null], ['refused', 'invalid_credentials'], ['refused', 'not_found'], ['succeeded', null], ['refused', 'invalid_argument'],
    ]);
    expect(JSON.stringify(verifications)).not.toContain(JANE.password);
  });

  it('lists entries without their hashes, config-file ones included', async () => {
    const listed = await suite.server.admin.call<{ passwords: Array<{ email: string; hash: Buffer; username: string; user_id: string }> }>('ListPasswords');
    expect(listed.passwords.map(({ email, username, user_id }) => ({ email, username, user_id }))).toEqual([
      { email: ADMIN.email, username: 'admin', user_id: ADMIN.userId },
      { email: 'jane@example.com', username: JANE.username, user_id: JANE.userId },
    ]);
    expect(listed.passwords.every((entry) => entry.hash.length === 0)).toBe(true);
  });

  it('answers already_exists for an email that has an entry, whatever its case', async () => {
    expect(await suite.server.admin.call('CreatePassword', { password: { email: 'JANE@EXAMPLE.COM', hash: hashOf('other'), username: 'x', user_id: 'other' } })).toEqual({ already_exists: true });
    expect(await suite.server.admin.call('VerifyPassword', { email: 'jane@example.com', password: JANE.password })).toMatchObject({ verified: true });
  });

  it('refuses what Dex refuses: no hash, no user ID, a cost below 10 or above 16, and what is not a bcrypt hash', async () => {
    const attempt = (password: object) => failure(suite.server.admin.call('CreatePassword', { password: { email: 'new@example.com', username: 'n', user_id: 'n', ...password } }));
    expect(await attempt({ hash: Buffer.alloc(0) })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^password\.hash: no hash/) });
    expect(await attempt({ hash: hashOf('x'), user_id: '' })).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'password.user_id: the user ID is required' });
    expect(await attempt({ hash: hashOf('x', 4) })).toMatchObject({ code: status.INVALID_ARGUMENT, details: "password.hash: the hash's cost 4 is below the minimum of 10" });
    expect(await attempt({ hash: Buffer.from('$2a$17$' + 'a'.repeat(53)) })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('above the maximum of 16') });
    expect(await attempt({ hash: Buffer.from('plaintext-password') })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^password\.hash: not a bcrypt hash/) });
    expect(await attempt({ email: 'not-an-email', hash: hashOf('x') })).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'password.email: not an email address' });
    expect(await suite.server.idp.storage.passwords.get('new@example.com')).toBeUndefined();
  });

  it('changes which password works on UpdatePassword, and the name with new_username', async () => {
    expect(await suite.server.admin.call('UpdatePassword', { email: 'jane@example.com', new_hash: hashOf(NEW_PASSWORD), new_username: 'Jane D.' })).toEqual({ not_found: false });
    await expect(logInAs('jane@example.com', JANE.password)).rejects.toThrow(/login page answered 401/);
    const tokens = await logInAs('jane@example.com', NEW_PASSWORD);
    expect(tokens.claims()).toMatchObject({ email: 'jane@example.com', name: 'Jane D.' });
    expect((await failure(suite.server.admin.call('UpdatePassword', { email: 'jane@example.com' }))).code).toBe(status.INVALID_ARGUMENT);
    expect(await suite.server.admin.call('UpdatePassword', { email: 'nobody@example.com', new_username: 'x' })).toEqual({ not_found: true });
  });

  it('keeps config-file entries read-only', async () => {
    for (const attempt of [
      suite.server.admin.call('UpdatePassword', { email: ADMIN.email, new_hash: hashOf('taken over') }),
      suite.server.admin.call('DeletePassword', { email: ADMIN.email }),
      suite.server.admin.call('CreatePassword', { password: { email: ADMIN.email, hash: hashOf('taken over'), username: 'evil', user_id: 'evil' } }),
    ]) {
      expect((await failure(attempt)).code).toBe(status.FAILED_PRECONDITION);
    }
    expect(await suite.server.admin.call('VerifyPassword', { email: ADMIN.email, password: 'taken over' })).toMatchObject({ verified: false });
  });

  it('deletes an entry: it no longer logs in, verifies as not_found, and a second delete answers not_found', async () => {
    expect(await suite.server.admin.call('DeletePassword', { email: 'Jane@example.com' })).toEqual({ not_found: false });
    await expect(logInAs('jane@example.com', NEW_PASSWORD)).rejects.toThrow(/login page answered 401/);
    expect(await suite.server.admin.call('VerifyPassword', { email: 'jane@example.com', password: NEW_PASSWORD })).toEqual({ verified: false, not_found: true });
    expect(await suite.server.admin.call('DeletePassword', { email: 'jane@example.com' })).toEqual({ not_found: true });
  });
});
