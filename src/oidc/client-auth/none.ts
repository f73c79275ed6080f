/**
 * none (RFC 7591 §2): a public client names itself with client_id and proves nothing; what protects
 * its grants is PKCE and the redirect URI, not this step.
 */
import { invalidClient, type VerifyCredentials } from './method.js';

export const verifyNone: VerifyCredentials<'none'> = async (client) => {
  if (!client.public) throw invalidClient('client authentication failed');
};
