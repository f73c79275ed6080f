/** Dex's development connectors: mockCallback (fixed identity, straight back) and mockPassword. */
import { describe, expect, it } from 'vitest';
import '../../../connectors/index.js';
import { connectorFactory, type CallbackConnector, type PasswordConnector, type RefreshConnector } from '../../../src/connector.js';
import { silentLogger } from '../../../src/telemetry/logger.js';

const scopes = { offlineAccess: false, groups: true };
const context = {
  id: 'mock', name: 'Mock', issuer: 'https://id.example.com', logger: silentLogger(), now: Date.now,
  store: { saveRequest: async () => {}, takeRequest: async () => undefined, markUsed: async () => true },
};
const KILGORE = { userId: '0-385-28089-0', username: 'Kilgore Trout', email: 'kilgore@kilgore.trout', emailVerified: true };

describe('mockCallback', () => {
  it('is registered and takes no config', () => {
    const factory = connectorFactory('mockCallback')!;
    expect(factory.configSchema.safeParse({}).success).toBe(true);
    expect(factory.configSchema.safeParse({ extra: 1 }).success).toBe(false);
  });

  it('redirects straight back to the callback with the state', async () => {
    const connector = (await connectorFactory('mockCallback')!.open({}, context)) as CallbackConnector;
    const { url } = await connector.loginURL(scopes, 'https://id.example.com/callback/mock', 'req-1');
    expect(url).toBe('https://id.example.com/callback/mock?state=req-1');
  });

  it('always returns Kilgore Trout, in group authors, on callback and refresh', async () => {
    const connector = (await connectorFactory('mockCallback')!.open({}, context)) as CallbackConnector & RefreshConnector;
    const identity = await connector.handleCallback(scopes, undefined, { url: new URL('https://id.example.com/callback/mock?state=req-1') });
    expect(identity).toMatchObject({ ...KILGORE, groups: ['authors'] });
    expect(new TextDecoder().decode(identity.connectorData)).toBe('foobar');
    identity.groups!.push('mutated');
    expect((await connector.refresh(scopes, identity)).groups).toEqual(['authors']);
  });
});

describe('mockPassword', () => {
  it('requires a username and password in its config', () => {
    const schema = connectorFactory('mockPassword')!.configSchema;
    expect(schema.safeParse({ username: 'kilgore' }).success).toBe(false);
    expect(schema.safeParse({ username: '', password: 'x' }).success).toBe(false);
    expect(schema.safeParse({ username: 'kilgore', password: 'trout' }).success).toBe(true);
  });

  it('logs in as Kilgore Trout with the configured credentials only', async () => {
    const connector = (await connectorFactory('mockPassword')!.open({ username: 'kilgore', password: 'trout' }, context)) as PasswordConnector;
    expect(await connector.login(scopes, 'kilgore', 'trout')).toEqual(KILGORE);
    expect(await connector.login(scopes, 'kilgore', 'wrong')).toBeUndefined();
    expect(await connector.login(scopes, 'someone', 'trout')).toBeUndefined();
  });
});
