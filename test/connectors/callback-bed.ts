/**
 * For the tests of one OAuth 2.0 connector on its own: open it through the registry from a raw config
 * block (so the zod schema and its defaults apply), and play one login — loginURL, the browser at the
 * upstream (browseUpstream follows the redirects back to the callback), handleCallback.
 */
import { connectorFactory, type CallbackConnector, type RefreshConnector, type Scopes } from '../../src/connector.js';
import '../../connectors/index.js';
import type { UpstreamFetch } from '../../connectors/oidc/tls-fetch.js';
import { testContext } from './context.js';
import { browseUpstream } from './oidc/upstream-idp.js';

export type UpstreamConnector = CallbackConnector & RefreshConnector;

export const CALLBACK = 'http://127.0.0.1:5556/dex/callback/upstream';
export const withGroups: Scopes = { offlineAccess: false, groups: true };
export const offline: Scopes = { offlineAccess: true, groups: true };

export async function openUpstream(type: string, config: Record<string, unknown>, context = testContext('upstream')): Promise<UpstreamConnector> {
  const factory = connectorFactory(type)!;
  return (await factory.open(factory.configSchema.parse(config), context)) as UpstreamConnector;
}

export interface Attempt {
  callback: URL;
  connectorData: Uint8Array | undefined;
  identity(): ReturnType<UpstreamConnector['handleCallback']>;
}

/** One login up to the callback; `identity()` hands the callback to the connector. */
export async function loginAt(connector: UpstreamConnector, options: { scopes?: Scopes; state?: string; browser?: UpstreamFetch } = {}): Promise<Attempt> {
  const scopes = options.scopes ?? withGroups;
  const { url, connectorData } = await connector.loginURL(scopes, CALLBACK, options.state ?? 'auth-request-1');
  const callback = await browseUpstream(url, CALLBACK, options.browser);
  return { callback, connectorData, identity: () => connector.handleCallback(scopes, connectorData, { url: callback }) };
}
