/**
 * Turns a userinfo answer into an idgate Identity the way Dex's generic oauth connector does: the
 * user ID (a string or a number) under `userIDKey`, the other fields under `claimMapping`'s keys,
 * and groups (strings, or objects with a `name`) from the userinfo and from the access token when it
 * is a JWT. The access token is read, not verified: it came straight from the token endpoint over the
 * connector's own TLS connection, the same channel that vouches for the userinfo.
 */
import { decodeJwt } from 'jose';
import { ConnectorError, type Identity } from '../../src/connector.js';
import type { OAuthConfig } from './config.js';

export type UserInfo = Record<string, unknown>;

function groupNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (typeof item === 'string') return [item];
    const name = item && typeof item === 'object' ? (item as { name?: unknown }).name : undefined;
    return typeof name === 'string' ? [name] : [];
  });
}

/** The access token's claims when it is a JWT, else nothing (opaque tokens are the common case). */
function accessTokenClaims(accessToken: string): UserInfo {
  try {
    return decodeJwt(accessToken);
  } catch {
    return {};
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

export function identityFromUserInfo(config: OAuthConfig, info: UserInfo, accessToken: string, withGroups: boolean): Identity {
  const id = info[config.userIDKey];
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
    throw new ConnectorError('invalid_response', `the userinfo response has no "${config.userIDKey}" (a string or a number, the user ID: userIDKey)`);
  }
  if (id === '') throw new ConnectorError('invalid_response', `the userinfo response's "${config.userIDKey}" (the user ID) is empty`);
  const mapping = config.claimMapping;
  const identity: Identity = {
    userId: String(id),
    username: text(info[mapping.userNameKey]) ?? '',
    emailVerified: info[mapping.emailVerifiedKey] === true,
  };
  const preferred = text(info[mapping.preferredUsernameKey]);
  if (preferred) identity.preferredUsername = preferred;
  const email = text(info[mapping.emailKey]);
  if (email) identity.email = email;
  if (withGroups) {
    const fromToken = groupNames(accessTokenClaims(accessToken)[mapping.groupsKey]);
    identity.groups = [...new Set([...groupNames(info[mapping.groupsKey]), ...fromToken])];
  }
  return identity;
}
