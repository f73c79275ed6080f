/**
 * Group handling shared by every upstream connector: keep only groups matching a pattern, require
 * membership of `allowedGroups` (a person outside them gets a readable refusal), optionally narrow
 * the groups to the allowed ones, then add a prefix/suffix so names from different upstreams cannot
 * collide. The order is fixed so that `allowedGroups` always names groups as the upstream spells them.
 */
import { z } from 'zod';
import { ConnectorError } from '../src/connector.js';

export interface GroupPolicy {
  /** Drop every upstream group whose name does not match (Dex `filterGroupClaims.groupsFilter`). */
  keepMatching?: RegExp;
  /** Refuse the login unless the person is in at least one of these (upstream names). */
  allowedGroups?: string[];
  /** Keep only the groups listed in `allowedGroups` (Dex OIDC always does; SAML with `filterGroups`). */
  narrowToAllowed?: boolean;
  /** Added to every group name last (Dex `modifyGroupNames`). */
  prefix?: string;
  suffix?: string;
}

/** The `modifyGroupNames` block, shared by the OIDC, SAML and LDAP configs. */
export const modifyGroupNamesSchema = z.strictObject({
  prefix: z.string().optional(),
  suffix: z.string().optional(),
});

/** A regular expression given in config, checked when the config is loaded. */
export const regexSchema = z.string().refine((source) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}, 'is not a valid regular expression');

/** Intersection in the order the upstream gave, without duplicates (Dex pkg/groups.Filter). */
export function intersectGroups(given: readonly string[], required: readonly string[]): string[] {
  const wanted = new Set(required);
  return [...new Set(given.filter((group) => wanted.has(group)))];
}

/**
 * Applies the policy to the groups the upstream sent for `user`; throws
 * ConnectorError('not_in_allowed_groups') when `allowedGroups` is set and none matches.
 */
export function applyGroupPolicy(user: string, upstreamGroups: readonly string[], policy: GroupPolicy): string[] {
  let groups = [...new Set(upstreamGroups)];
  if (policy.keepMatching) {
    const pattern = policy.keepMatching;
    groups = groups.filter((group) => pattern.test(group));
  }
  if (policy.allowedGroups && policy.allowedGroups.length > 0) {
    const matches = intersectGroups(groups, policy.allowedGroups);
    if (matches.length === 0) {
      throw new ConnectorError(
        'not_in_allowed_groups',
        `user "${user}" is not a member of any group allowed to sign in here (${policy.allowedGroups.join(', ')})`,
      );
    }
    if (policy.narrowToAllowed) groups = matches;
  }
  const prefix = policy.prefix ?? '';
  const suffix = policy.suffix ?? '';
  return prefix || suffix ? groups.map((group) => `${prefix}${group}${suffix}`) : groups;
}
