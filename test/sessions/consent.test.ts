/**
 * The rules of remembered consent and of the session record, on memory storage: which skipApprovalScreen
 * wins, what covers a request, how approvals add up (also when two replicas write at once), and the
 * lifetimes and renewals of a login session.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { approvalScreenSkipped, consentCovers, consentNeeded, rememberConsent, withdrawConsent } from '../../src/sessions/consent.js';
import { coversConnectorScopes, isFreshEnough, newLoginSession, reauthenticated, usedBy } from '../../src/sessions/login-session.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';

const config = (skip: boolean) => parseConfig(`issuer: http://127.0.0.1:5556/dex\nstorage: {type: memory}\nweb: {http: 127.0.0.1:5556}\noauth2: {skipApprovalScreen: ${skip}}\n`, 'test.yaml', {});
const who = { subject: 'sub-1', userId: 'u1', connectorId: 'local', clientId: 'app' };

describe('skipApprovalScreen', () => {
  it("takes the client's own value when it sets one, else oauth2's", () => {
    expect(approvalScreenSkipped(config(true), {})).toBe(true);
    expect(approvalScreenSkipped(config(true), { skipApprovalScreen: false })).toBe(false);
    expect(approvalScreenSkipped(config(false), { skipApprovalScreen: true })).toBe(true);
    expect(approvalScreenSkipped(config(false), {})).toBe(false);
  });
});

describe('remembered consent', () => {
  it('covers the scopes approved (openid always), asks for more, and always for prompt=consent', async () => {
    const storage = createStorage(createMemoryBackend());
    const ctx = { config: config(false), storage };
    const request = (scopes: string[], prompt?: string[]) => ({ client: { id: 'app' }, subject: who.subject, scopes, ...(prompt ? { prompt } : {}) });
    expect(await consentNeeded(ctx, request(['openid']))).toBe(true);
    await rememberConsent(storage, who, ['openid', 'email'], 1);
    expect(await consentNeeded(ctx, request(['openid', 'email']))).toBe(false);
    expect(await consentNeeded(ctx, request(['openid', 'email', 'groups']))).toBe(true);
    expect(await consentNeeded(ctx, request(['openid', 'email'], ['consent']))).toBe(true);
    expect(await consentNeeded({ ...ctx, config: config(true) }, request(['openid', 'email', 'groups'], ['consent']))).toBe(true);
    expect(consentCovers({ scopes: [] }, ['openid'])).toBe(true);
    expect(consentCovers(undefined, ['openid'])).toBe(false);
  });

  it('adds what is approved to what was, also when two approvals are written at once', async () => {
    const storage = createStorage(createMemoryBackend());
    await Promise.all([rememberConsent(storage, who, ['openid', 'email'], 1), rememberConsent(storage, who, ['openid', 'groups'], 2)]);
    const [consent] = await storage.consents.list({ index: who.subject });
    expect([...consent!.scopes].sort()).toEqual(['email', 'groups', 'openid']);
    expect(await withdrawConsent(storage, who.subject, 'app')).toMatchObject({ clientId: 'app' });
    expect(await storage.consents.list()).toEqual([]);
    expect(await withdrawConsent(storage, who.subject, 'app')).toBeUndefined();
  });
});

describe('a login session', () => {
  const policy = { absoluteLifetime: 60_000, validIfNotUsedFor: 10_000 };
  const login = { connectorId: 'local', identity: { userId: 'u1', username: 'one' }, connectorScopes: { offlineAccess: false, groups: true }, amr: ['pwd'], authTime: 0 };

  it('ends at the earlier of its absolute and idle ends, and a use moves only the idle one', () => {
    const session = newLoginSession('s1', login, 0, policy);
    expect(session).toMatchObject({ id: 's1', createdAt: 0, absoluteExpiresAt: 60_000, expiresAt: 10_000, clients: [] });
    const used = usedBy(session, 'app', 55_000, policy);
    expect(used).toMatchObject({ lastUsedAt: 55_000, expiresAt: 60_000, clients: [{ clientId: 'app', firstAt: 55_000, lastAt: 55_000 }] });
    expect(usedBy(used, 'app', 56_000, policy).clients).toEqual([{ clientId: 'app', firstAt: 55_000, lastAt: 56_000 }]);
  });

  it('keeps its id, start and clients when the same person authenticates again', () => {
    const session = usedBy(newLoginSession('s1', { ...login, connectorData: 'b2xk' }, 0, policy), 'app', 1_000, policy);
    const renewed = reauthenticated(session, { ...login, authTime: 5, amr: ['pwd'], connectorScopes: { offlineAccess: true, groups: true } }, 5_000, policy);
    expect(renewed).toMatchObject({ id: 's1', createdAt: 0, authTime: 5, clients: [{ clientId: 'app' }], connectorScopes: { offlineAccess: true, groups: true } });
    expect(renewed).not.toHaveProperty('connectorData');
  });

  it('answers a request only when the connector was asked for enough, and max_age has not passed', () => {
    const session = newLoginSession('s1', login, 0, policy);
    expect(coversConnectorScopes(session, { offlineAccess: false, groups: true })).toBe(true);
    expect(coversConnectorScopes(session, { offlineAccess: true, groups: false })).toBe(false);
    expect(isFreshEnough({ authTime: 100 }, 60, 160_000)).toBe(true);
    expect(isFreshEnough({ authTime: 100 }, 60, 161_000)).toBe(false);
    expect(isFreshEnough({ authTime: 100 }, undefined, 1e12)).toBe(true);
  });
});
