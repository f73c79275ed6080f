/**
 * client_secret_basic (RFC 6749 §2.3.1): the id and secret in an HTTP Basic Authorization header,
 * each application/x-www-form-urlencoded before the Basic encoding.
 */
import type { Context } from 'koa';
import { checkClientSecret, invalidClient, type VerifyCredentials } from './method.js';

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** The Basic credentials of the request; undefined when it sends no Basic header. */
export function readBasic(ctx: Context): { clientId: string; secret: string } | undefined {
  const header = ctx.get('authorization');
  if (!header || !/^basic /i.test(header)) return undefined;
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('malformed Basic credentials', { basic: true });
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw invalidClient('malformed Basic credentials', { basic: true });
  }
}

export const verifyClientSecretBasic: VerifyCredentials<'client_secret_basic'> = async (client, presented) => {
  checkClientSecret(client, presented.secret, { basic: true });
};
