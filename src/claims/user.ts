/**
 * The `user` of user validation rules and client claim expressions: the identity after the
 * connector's mapping, every field present (an absent email is "", absent groups []), as Kubernetes'
 * user validation rules see `user.username`, `user.uid`, `user.groups` and `user.extra`.
 */
import type { StoredIdentity } from '../storage/storage.js';
import { celMap, celValue, newBudget } from './values.js';

export function userVariable(identity: StoredIdentity, connectorId: string): Record<string, unknown> {
  const budget = newBudget();
  return {
    uid: celValue(identity.userId, 'user.uid', budget),
    username: celValue(identity.username, 'user.username', budget),
    preferredUsername: celValue(identity.preferredUsername ?? '', 'user.preferredUsername', budget),
    email: celValue(identity.email ?? '', 'user.email', budget),
    emailVerified: identity.emailVerified ?? false,
    groups: celValue(identity.groups ?? [], 'groups', budget),
    extra: celMap(identity.extra ?? {}, 'user.extra', budget),
    connectorID: connectorId,
  };
}
