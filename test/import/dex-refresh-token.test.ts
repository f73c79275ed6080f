// Dex's refresh-token wire format (base64url of protobuf RefreshToken{refresh_id, token}), read by
// idgate for imported families: what Dex's protobuf encoder produces is accepted, and nothing else.
import { describe, expect, it } from 'vitest';
import { parseDexRefreshToken } from '../../src/oidc/token/dex-refresh-token.js';
import { parsePresentedRefreshToken } from '../../src/oidc/token/refresh-family.js';
import { dexRefreshToken } from './dex-scenario.js';

const raw = (bytes: number[]) => Buffer.from(bytes).toString('base64url');
const field = (tag: number, value: string) => [tag, Buffer.byteLength(value), ...Buffer.from(value)];

describe("Dex's refresh token format", () => {
  it('reads what Dex encodes', () => {
    expect(parseDexRefreshToken(dexRefreshToken('cz6kq3vkxlxm2mbiwjdnaj6p4e', 'wm7fnz2ahdqz4tb5xqkuoy3rle')))
      .toEqual({ refreshId: 'cz6kq3vkxlxm2mbiwjdnaj6p4e', token: 'wm7fnz2ahdqz4tb5xqkuoy3rle' });
    // Dex's own introspection test token: RefreshToken{RefreshId: "test", Token: "bar"}.
    expect(parseDexRefreshToken(dexRefreshToken('test', 'bar'))).toEqual({ refreshId: 'test', token: 'bar' });
    const long = 'x'.repeat(200); // a length that takes a two-byte varint
    expect(parseDexRefreshToken(dexRefreshToken(long, 'secret'))).toEqual({ refreshId: long, token: 'secret' });
  });

  it.each([
    ['empty', ''],
    ['padded base64', `${dexRefreshToken('abc', 'de')}=`],
    ['standard base64 (+ and /)', Buffer.from([...field(0x0a, 'id>>>'), ...field(0x12, 's???')]).toString('base64').replace(/=+$/, '')],
    ['a token without its secret (field 2)', raw(field(0x0a, 'only-the-id'))],
    ['a secret without its ID (field 1)', raw(field(0x12, 'only-the-secret'))],
    ['an empty secret', raw([...field(0x0a, 'id'), 0x12, 0x00])],
    ['a field given twice', raw([...field(0x0a, 'id'), ...field(0x12, 'a'), ...field(0x12, 'b')])],
    ['an unknown field', raw([...field(0x0a, 'id'), ...field(0x12, 'secret'), ...field(0x1a, 'extra')])],
    ['a varint field', raw([...field(0x0a, 'id'), ...field(0x12, 'secret'), 0x18, 0x01])],
    ['a length past the end', raw([0x0a, 0x10, 0x61, 0x62])],
    ['invalid UTF-8', raw([0x0a, 0x02, 0xc3, 0x28, ...field(0x12, 'secret')])],
    ['an unterminated varint', raw([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ['far too long', dexRefreshToken('x'.repeat(800), 'y')],
  ])('refuses %s', (name, token) => {
    if (name.startsWith('standard')) expect(token).toMatch(/[+/]/);
    expect(parseDexRefreshToken(token)).toBeUndefined();
  });

  it("tells idgate's format (with a dot) from Dex's (without)", () => {
    expect(parsePresentedRefreshToken('family.secret')).toEqual({ familyId: 'family', secret: 'secret', format: 'idgate' });
    expect(parsePresentedRefreshToken(dexRefreshToken('family', 'secret'))).toEqual({ familyId: 'family', secret: 'secret', format: 'dex' });
    expect(parsePresentedRefreshToken('neither-format')).toBeUndefined();
  });
});
