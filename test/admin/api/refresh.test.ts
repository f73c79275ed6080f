/**
 * Dex's ListRefresh / RevokeRefresh: the user is the `sub` of the ID token, decoded as Dex decodes it
 * (base64url protobuf of user ID and connector ID). A revoked refresh token is refused at /token.
 * Also the `sub` decoder itself, against the encodings Dex's Go protobuf accepts and refuses.
 */
import { status } from '@grpc/grpc-js';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { parseSubject, subjectOf } from '../../../src/oidc/claims.js';
import { ADMIN, EXAMPLE_APP } from '../../helpers/issuer.js';
import { failure, logIn, relyingParty, useApiIssuer } from './harness.js';

const suite = useApiIssuer();

interface RefreshList {
  refresh_tokens: Array<{ id: string; client_id: string; created_at: number; last_used: number }>;
}

describe('ListRefresh and RevokeRefresh', () => {
  it('lists the refresh tokens of the user the sub names, revokes those of one client, and /token then refuses them', async () => {
    const rp = await relyingParty(suite.server.idp.url, EXAMPLE_APP.id, EXAMPLE_APP.secret);
    const before = Math.floor(Date.now() / 1000);
    const tokens = await logIn(rp, { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
    const { sub } = tokens.claims()! as unknown as { sub: string };
    // The refresh token's family id (its tokens' sid is the browser's login session, shared with other clients).
    const familyId = tokens.refresh_token!.split('.')[0]!;

    const listed = await suite.server.admin.call<RefreshList>('ListRefresh', { user_id: sub });
    expect(listed.refresh_tokens).toEqual([{ id: familyId, client_id: EXAMPLE_APP.id, created_at: expect.any(Number), last_used: expect.any(Number) }]);
    expect(listed.refresh_tokens[0]!.created_at).toBeGreaterThanOrEqual(before);
    // The same user at another connector is another subject.
    expect(await suite.server.admin.call<RefreshList>('ListRefresh', { user_id: subjectOf(ADMIN.userId, 'mock') })).toEqual({ refresh_tokens: [] });

    expect(await suite.server.admin.call('RevokeRefresh', { user_id: sub, client_id: 'public-app' })).toEqual({ not_found: true });
    expect(await suite.server.admin.call('RevokeRefresh', { user_id: sub, client_id: EXAMPLE_APP.id })).toEqual({ not_found: false });
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await suite.server.admin.call<RefreshList>('ListRefresh', { user_id: sub })).toEqual({ refresh_tokens: [] });
    expect(await suite.server.admin.call('RevokeRefresh', { user_id: sub, client_id: EXAMPLE_APP.id })).toEqual({ not_found: true });
    expect(suite.server.auditLines().filter((line) => line.type === 'session_revoked').map((line) => [line.outcome, line.reason, line.actor])).toEqual([
      ['ignored', 'not_found', suite.certs.clientSubject],
      ['succeeded', 'revoked_by_admin', suite.certs.clientSubject],
      ['ignored', 'not_found', suite.certs.clientSubject],
    ]);
  });

  it('refuses a user_id that is not a sub this issuer could have issued', async () => {
    for (const userId of ['not base64!', 'CiQ=', 'Cg']) {
      const refused = await failure(suite.server.admin.call('ListRefresh', { user_id: userId }));
      expect(refused.code, userId).toBe(status.INVALID_ARGUMENT);
      expect(refused.details).toMatch(/^user_id: /);
    }
    expect((await failure(suite.server.admin.call('RevokeRefresh', { user_id: 'not base64!', client_id: EXAMPLE_APP.id }))).code).toBe(status.INVALID_ARGUMENT);
  });
});

describe('parseSubject (Dex internal.Unmarshal of IDTokenSubject)', () => {
  const protobuf = (...parts: number[][]) => Buffer.from(parts.flat()).toString('base64url');
  const text = (field: number, value: string) => [(field << 3) | 2, Buffer.byteLength(value), ...Buffer.from(value)];

  it('decodes what subjectOf (and Dex) encodes, Unicode included', () => {
    expect(parseSubject('CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs')).toEqual({ userId: ADMIN.userId, connectorId: 'local' });
    expect(parseSubject(subjectOf('ünïcödé 👤', 'ldap-corp'))).toEqual({ userId: 'ünïcödé 👤', connectorId: 'ldap-corp' });
    expect(parseSubject(subjectOf('x'.repeat(300), 'c'))).toEqual({ userId: 'x'.repeat(300), connectorId: 'c' });
  });

  it('accepts fields in any order, skips unknown fields, lets the last one win, and leaves absent ones empty', () => {
    expect(parseSubject(protobuf(text(2, 'conn'), text(1, 'user')))).toEqual({ userId: 'user', connectorId: 'conn' });
    expect(parseSubject(protobuf([3 << 3, 150, 1], text(1, 'user'), [(4 << 3) | 5, 1, 2, 3, 4], text(2, 'conn')))).toEqual({ userId: 'user', connectorId: 'conn' });
    expect(parseSubject(protobuf(text(1, 'first'), text(1, 'last')))).toEqual({ userId: 'last', connectorId: '' });
    expect(parseSubject('')).toEqual({ userId: '', connectorId: '' });
  });

  it('refuses padding, other alphabets, truncated or malformed protobuf, and strings that are not UTF-8', () => {
    expect(parseSubject(`${subjectOf('u', 'c')}=`)).toBeUndefined();
    expect(parseSubject('CgF1EgFj')).toEqual({ userId: 'u', connectorId: 'c' });
    expect(parseSubject('CgF1+gFj')).toBeUndefined();
    expect(parseSubject('CgF1/gFj')).toBeUndefined();
    expect(parseSubject(protobuf([0x0a, 5, 0x61]))).toBeUndefined();
    expect(parseSubject(protobuf([0x0b]))).toBeUndefined();
    expect(parseSubject(protobuf([0x0a, 2, 0xc3, 0x28]))).toBeUndefined();
    expect(parseSubject(protobuf([0x80]))).toBeUndefined();
  });
});
