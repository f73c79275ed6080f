/**
 * The grant registry: one handler per grant type, one file per grant beside this one. What is enabled
 * is what the operator configured (grant.ts) and is implemented here; discovery advertises exactly that.
 */
import type { IssuerContext } from '../../context.js';
import { configuredGrantTypes, type GrantHandler } from '../grant.js';
import type { GrantType } from '../issue.js';
import { authorizationCodeGrant } from './authorization_code.js';
import { clientCredentialsGrant } from './client_credentials.js';
import { deviceCodeGrant } from './device_code.js';
import { passwordGrant } from './password.js';
import { refreshTokenGrant } from './refresh_token.js';
import { tokenExchangeGrant } from './token_exchange.js';

export const GRANTS: Partial<Record<GrantType, GrantHandler>> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  'urn:ietf:params:oauth:grant-type:token-exchange': tokenExchangeGrant,
  'urn:ietf:params:oauth:grant-type:device_code': deviceCodeGrant,
  password: passwordGrant,
};

/** The grant types the token endpoint serves: configured and implemented. */
export function enabledGrantTypes(ctx: IssuerContext): readonly GrantType[] {
  return configuredGrantTypes(ctx).filter((grant) => GRANTS[grant] !== undefined);
}
