/**
 * `mockCallback` (as in Dex): a CallbackConnector for development that asks nothing and always
 * returns the same person — it "redirects" straight back to idgate's callback with the state.
 */
import { z } from 'zod';
import type { CallbackConnector, ConnectorFactory, Identity, RefreshConnector } from '../../src/connector.js';

/** Dex's fixed test identity. */
export const KILGORE_TROUT: Readonly<Identity> = Object.freeze({
  userId: '0-385-28089-0',
  username: 'Kilgore Trout',
  email: 'kilgore@kilgore.trout',
  emailVerified: true,
  groups: ['authors'],
});

const CONNECTOR_DATA = new TextEncoder().encode('foobar');

function kilgore(): Identity {
  return { ...KILGORE_TROUT, groups: [...KILGORE_TROUT.groups!], connectorData: CONNECTOR_DATA.slice() };
}

export const mockCallbackFactory: ConnectorFactory<Record<string, never>> = {
  kind: 'callback',
  configSchema: z.strictObject({}),
  async open(): Promise<CallbackConnector & RefreshConnector> {
    return {
      kind: 'callback',
      async loginURL(_scopes, callbackURL, state) {
        const url = new URL(callbackURL);
        url.searchParams.set('state', state);
        return { url: url.toString() };
      },
      async handleCallback() {
        return kilgore();
      },
      async refresh() {
        return kilgore();
      },
    };
  },
};
