// The group policy shared by the oidc, saml and ldap connectors: pattern filter, allowedGroups
// (refusal with a readable reason), narrowing, prefix/suffix, in that order.
import { describe, expect, it } from 'vitest';
import { applyGroupPolicy, intersectGroups, regexSchema } from '../../../connectors/groups.js';
import { ConnectorError } from '../../../src/connector.js';

describe('group policy', () => {
  it('keeps upstream groups as they are without a policy (duplicates removed)', () => {
    expect(applyGroupPolicy('alice', ['a', 'b', 'a'], {})).toEqual(['a', 'b']);
  });

  it('drops groups not matching keepMatching before anything else', () => {
    expect(applyGroupPolicy('alice', ['eng-web', 'sales', 'eng-db'], { keepMatching: /^eng-/ })).toEqual(['eng-web', 'eng-db']);
  });

  it('refuses a person in none of allowedGroups, naming the person and the groups', () => {
    const refuse = () => applyGroupPolicy('Bob', ['sales'], { allowedGroups: ['admins', 'ops'] });
    expect(refuse).toThrow(ConnectorError);
    expect(refuse).toThrow('user "Bob" is not a member of any group allowed to sign in here (admins, ops)');
    try {
      refuse();
    } catch (error) {
      expect((error as ConnectorError).code).toBe('not_in_allowed_groups');
    }
  });

  it('refuses when the only allowed group was removed by keepMatching', () => {
    expect(() => applyGroupPolicy('alice', ['admins'], { keepMatching: /^eng/, allowedGroups: ['admins'] })).toThrow(/not a member/);
  });

  it('keeps all groups of an allowed person unless told to narrow them', () => {
    expect(applyGroupPolicy('alice', ['admins', 'devs'], { allowedGroups: ['admins'] })).toEqual(['admins', 'devs']);
    expect(applyGroupPolicy('alice', ['admins', 'devs'], { allowedGroups: ['admins'], narrowToAllowed: true })).toEqual(['admins']);
  });

  it('compares allowedGroups with upstream names, then prefixes and suffixes', () => {
    expect(applyGroupPolicy('alice', ['admins'], { allowedGroups: ['admins'], prefix: 'corp:', suffix: '@idp' })).toEqual(['corp:admins@idp']);
  });

  it('an empty allowedGroups allows everyone', () => {
    expect(applyGroupPolicy('alice', [], { allowedGroups: [] })).toEqual([]);
  });

  it('intersects in upstream order', () => {
    expect(intersectGroups(['c', 'a', 'b', 'a'], ['a', 'c'])).toEqual(['c', 'a']);
  });

  it('validates regular expressions given in config', () => {
    expect(regexSchema.safeParse('^eng-').success).toBe(true);
    expect(regexSchema.safeParse('(').error?.issues[0]?.message).toBe('is not a valid regular expression');
  });
});
