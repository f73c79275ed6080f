/**
 * redirect_uri must equal one of the client's registered URIs exactly (string equality: no prefix
 * match, no normalisation). Dex's exception is kept: a public client with no registered URIs may
 * use an http loopback URI (localhost, 127.0.0.1, [::1]) on any port and path, or the out-of-band
 * URI (the code is then shown on a page), for native apps. Failures are shown as a page.
 */
import { OAuthError } from '../errors.js';
import type { Client } from '../../storage/storage.js';
import type { AuthorizeCheck } from './state.js';

/** The out-of-band redirect URI: the code is shown to the person to copy. */
export const OOB_REDIRECT_URI = 'urn:ietf:wg:oauth:2.0:oob';

export const checkRedirectURI: AuthorizeCheck = (state) => {
  const client = state.client!;
  const redirectURI = state.params.redirect_uri;
  if (!redirectURI) throw new OAuthError('invalid_request', 'the request has no redirect_uri');
  if (!isAllowedRedirectURI(client, redirectURI)) {
    throw new OAuthError('invalid_request', `redirect_uri is not registered for client "${client.id}"`);
  }
  state.redirectURI = redirectURI;
};

export function isAllowedRedirectURI(client: Client, redirectURI: string): boolean {
  if (client.redirectURIs.includes(redirectURI)) return true;
  if (!client.public || client.redirectURIs.length > 0) return false;
  return redirectURI === OOB_REDIRECT_URI || isLoopbackURI(redirectURI);
}

function isLoopbackURI(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.protocol !== 'http:' || url.username || url.password || url.hash) return false;
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}
