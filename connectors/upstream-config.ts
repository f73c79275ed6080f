/**
 * Config fields every OAuth 2.0 connector (github, gitlab, google, microsoft, oauth) spells the same
 * way: upstream URLs (https, plain http only on this machine), `redirectURI` (one of idgate's
 * callbacks, checked when the connector opens), and idgate's `upstreamTimeout`.
 */
import { z } from 'zod';
import { duration } from '../src/config/duration.js';
import { ConnectorError, type ConnectorContext } from '../src/connector.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopback(url: string): boolean {
  return LOOPBACK.has(new URL(url).hostname);
}

/** An upstream endpoint: https, or http for 127.0.0.1/localhost (tests, local development). */
export const upstreamURL = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .refine((url) => url.startsWith('https:') || isLoopback(url), 'must be an https URL (plain http only for 127.0.0.1 or localhost)');

/** idgate's callback for the connector (the default) or Dex's shared <issuer>/callback. */
export const redirectURIField = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional();

/** Idgate addition: bound on every request to the upstream (token endpoint, API calls). */
export const upstreamTimeoutField = duration('10s').refine((ms) => ms > 0 && ms <= 120_000, 'must be between 1ms and 2m');

/**
 * `redirectURI`, when set, must be where idgate takes this connector's answers: its own callback, or
 * the shared <issuer>/callback Dex configs use (the auth request in `state` names the connector).
 * Checked when the connector opens, so `idgate check` reports it rather than every login failing.
 */
export function checkRedirectURI(configured: string | undefined, context: Pick<ConnectorContext, 'issuer' | 'id'>): string | undefined {
  if (configured === undefined) return undefined;
  const allowed = [`${context.issuer}/callback/${encodeURIComponent(context.id)}`, `${context.issuer}/callback`];
  if (!allowed.includes(configured)) {
    throw new ConnectorError('misconfigured', `redirectURI must be ${allowed.join(' or ')} (idgate's callbacks), not ${configured}`);
  }
  return configured;
}
