/**
 * Turns the upstream's verified claims (ID token, merged with userinfo when `getUserInfo` is set)
 * into an idgate Identity, the way Dex's OIDC connector does: claim mapping, email verification,
 * groups (string, list, or list of {name}), synthetic groups, then the shared group policy. The claims
 * themselves travel along for claim expressions (Identity.claims).
 */
import { ConnectorError, type Identity } from '../../src/connector.js';
import { applyGroupPolicy } from '../groups.js';
import type { OIDCConfig } from './config.js';

export type Claims = Record<string, unknown>;

function refused(message: string): ConnectorError {
  return new ConnectorError('invalid_response', message);
}

/** Dex's rule: the standard claim wins unless it is missing or overrideClaimMapping is set. */
function mappedClaim(config: OIDCConfig, claims: Claims, standard: string, mapped: string | undefined): unknown {
  if (mapped && (config.overrideClaimMapping || claims[standard] === undefined)) return claims[mapped];
  return claims[standard];
}

function readGroups(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) throw refused('the upstream "groups" claim is neither a string nor a list');
  return value.map((item) => {
    if (typeof item === 'string') return item;
    if (item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string') {
      return (item as { name: string }).name;
    }
    throw refused('the upstream "groups" claim holds an entry that is not a group name');
  });
}

/** `newGroupFromClaims`, as Dex: [prefix, ...string claim values] joined by the delimiter. */
function groupsFromClaims(config: OIDCConfig, claims: Claims): string[] {
  const made: string[] = [];
  for (const rule of config.claimModifications.newGroupFromClaims) {
    const segments = [rule.prefix];
    for (const name of rule.claims) {
      const value = claims[name];
      if (typeof value !== 'string') continue;
      segments.push(rule.clearDelimiter && rule.delimiter ? value.split(rule.delimiter).join('') : value);
    }
    if (segments.length > 1) made.push(segments.join(rule.delimiter));
  }
  return made;
}

/**
 * Builds the identity. `emailRequested` is whether `email` is among the upstream scopes: then a
 * missing email, or a missing `email_verified` without insecureSkipEmailVerified, refuses the login.
 */
export function identityFromClaims(config: OIDCConfig, claims: Claims, emailRequested: boolean): Identity {
  const userId = claims[config.userIDKey];
  if (typeof userId !== 'string' || userId === '') {
    throw refused(`the upstream did not send the "${config.userIDKey}" claim used as the user ID`);
  }
  const username = claims[config.userNameKey];
  if (typeof username !== 'string' || username === '') {
    throw refused(`the upstream did not send the "${config.userNameKey}" claim used as the user name`);
  }
  const preferred = mappedClaim(config, claims, 'preferred_username', config.claimMapping.preferred_username);
  const email = mappedClaim(config, claims, 'email', config.claimMapping.email);
  let emailVerified = claims.email_verified;
  if (emailRequested && (typeof email !== 'string' || email === '')) {
    throw refused('the upstream did not send an email address although the "email" scope was requested');
  }
  if (emailVerified === undefined && email !== undefined) {
    if (!config.insecureSkipEmailVerified && emailRequested) {
      throw refused('the upstream did not say whether the email address is verified (email_verified)');
    }
    emailVerified = config.insecureSkipEmailVerified;
  }

  let groups: string[] | undefined;
  if (config.insecureEnableGroups) {
    const upstream = readGroups(mappedClaim(config, claims, 'groups', config.claimMapping.groups));
    const filter = config.claimModifications.filterGroupClaims?.groupsFilter;
    const kept = filter ? upstream.filter((group) => new RegExp(filter).test(group)) : upstream;
    groups = applyGroupPolicy(username, [...kept, ...groupsFromClaims(config, claims)], {
      allowedGroups: config.allowedGroups,
      narrowToAllowed: true,
      prefix: config.claimModifications.modifyGroupNames?.prefix,
      suffix: config.claimModifications.modifyGroupNames?.suffix,
    });
  }

  return {
    userId,
    username,
    preferredUsername: typeof preferred === 'string' ? preferred : undefined,
    email: typeof email === 'string' ? email : undefined,
    emailVerified: emailVerified === true || emailVerified === 'true',
    groups,
    // For the connector's claim expressions (docs/claims.md): every claim, as the upstream sent it.
    claims,
  };
}
