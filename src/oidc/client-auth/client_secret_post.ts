/**
 * client_secret_post (RFC 6749 §2.3.1): client_id and client_secret in the form body.
 */
import { checkClientSecret, type VerifyCredentials } from './method.js';

/** The body credentials of the request; undefined when it sends no client_secret. */
export function readSecretPost(form: Record<string, string>): { clientId: string | undefined; secret: string } | undefined {
  return form.client_secret === undefined ? undefined : { clientId: form.client_id, secret: form.client_secret };
}

export const verifyClientSecretPost: VerifyCredentials<'client_secret_post'> = async (client, presented) => {
  checkClientSecret(client, presented.secret, { basic: false });
};
