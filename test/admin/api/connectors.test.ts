/**
 * Dex's connector RPCs against a whole issuer: a connector created through the API is on the login
 * chooser at once and logs people in; an update reopens it with its new name, config and grants; a
 * delete closes it. Configs are checked against the connector type's schema before they are stored;
 * config-file connectors (and the password DB) are listed without their config and are read-only.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { KILGORE_TROUT } from '../../../connectors/mock/callback.js';
import { subjectOf } from '../../../src/oidc/claims.js';
import { EXAMPLE_APP } from '../../helpers/issuer.js';
import { chooserOptions, failure, logIn, relyingParty, useApiIssuer } from './harness.js';

const suite = useApiIssuer();

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const chooser = () => chooserOptions(suite.server.idp.url, EXAMPLE_APP.id, EXAMPLE_APP.redirectURI);

async function logInThrough(connector: string, password: string) {
  const rp = await relyingParty(suite.server.idp.url, EXAMPLE_APP.id, EXAMPLE_APP.secret);
  return logIn(rp, { redirectURI: EXAMPLE_APP.redirectURI, connector, username: 'kilgore', password, scope: 'openid email offline_access' });
}

interface ConnectorAnswer {
  id: string;
  type: string;
  name: string;
  config: Buffer;
  grant_types: string[];
}

describe('connectors through the API', () => {
  it('lists the config-file connectors and the password DB, without their config', async () => {
    const listed = await suite.server.admin.call<{ connectors: ConnectorAnswer[] }>('ListConnectors');
    expect(listed.connectors.map(({ id, type, name, config, grant_types }) => ({ id, type, name, config: config.toString(), grant_types }))).toEqual([
      { id: 'local', type: 'local', name: 'Email', config: '', grant_types: [] },
      { id: 'mock', type: 'mockCallback', name: 'Mock', config: '', grant_types: [] },
    ]);
  });

  it('puts a created connector on the chooser at once; it logs in and, limited to authorization_code, issues no refresh token', async () => {
    const created = await suite.server.admin.call('CreateConnector', {
      connector: { id: 'runtime', type: 'mockPassword', name: 'Runtime Login', config: json({ username: 'kilgore', password: 'first' }), grant_types: ['authorization_code'] },
    });
    expect(created).toEqual({ already_exists: false });
    expect(await chooser()).toEqual([['mock', 'Mock'], ['local', 'Email'], ['runtime', 'Runtime Login']]);
    const tokens = await logInThrough('runtime', 'first');
    expect(tokens.claims()).toMatchObject({ sub: subjectOf(KILGORE_TROUT.userId, 'runtime'), email: KILGORE_TROUT.email });
    expect(tokens.refresh_token).toBeUndefined();
    const listed = await suite.server.admin.call<{ connectors: ConnectorAnswer[] }>('ListConnectors');
    const runtime = listed.connectors.find((connector) => connector.id === 'runtime')!;
    expect(JSON.parse(runtime.config.toString())).toEqual({ username: 'kilgore', password: 'first' });
    expect(runtime.grant_types).toEqual(['authorization_code']);
    expect(suite.server.auditLines().find((line) => line.type === 'connector_created')).toMatchObject({ outcome: 'succeeded', connectorId: 'runtime', actor: suite.certs.clientSubject });
  });

  it('reopens an updated connector: the new name on the chooser, the new config at login, grants unlimited by an empty list', async () => {
    expect(await suite.server.admin.call('UpdateConnector', {
      id: 'runtime', new_name: 'Renamed Login', new_config: json({ username: 'kilgore', password: 'second' }), new_grant_types: { grant_types: [] },
    })).toEqual({ not_found: false });
    expect(await chooser()).toContainEqual(['runtime', 'Renamed Login']);
    await expect(logInThrough('runtime', 'first')).rejects.toThrow(/login page answered 401/);
    const tokens = await logInThrough('runtime', 'second');
    expect(tokens.refresh_token).toBeDefined();
    // Without new_grant_types the grants stay as they are.
    await suite.server.admin.call('UpdateConnector', { id: 'runtime', new_name: 'Runtime Login' });
    expect((await suite.server.idp.storage.connectors.get('runtime'))?.grantTypes).toBeUndefined();
  });

  it('refuses a config its type does not accept, naming the field, and stores nothing', async () => {
    const attempt = (connector: object) => failure(suite.server.admin.call('CreateConnector', { connector: { id: 'bad', type: 'mockPassword', name: 'Bad', config: json({ username: 'u', password: 'p' }), ...connector } }));
    expect(await attempt({ config: Buffer.from('{not json') })).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'connector.config: not valid JSON' });
    expect(await attempt({ config: json({ username: 'u' }) })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^connector\.config\.password: /) });
    expect(await attempt({ config: json({ username: 'u', password: 'p', extra: 1 }) })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^connector\.config/) });
    expect(await attempt({ config: Buffer.alloc(0) })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^connector\.config: /) });
    expect(await attempt({ type: 'githubb' })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^connector\.type: unknown connector type "githubb"/) });
    expect(await attempt({ type: 'local', config: json({}) })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('password DB') });
    expect(await attempt({ id: 'a/b' })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^connector\.id: /) });
    expect(await attempt({ name: '' })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^connector\.name: /) });
    expect(await attempt({ grant_types: ['client_credentials'] })).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^connector\.grant_types\[0\]: unknown grant type/) });
    expect(await suite.server.idp.storage.connectors.get('bad')).toBeUndefined();
    expect(await failure(suite.server.admin.call('UpdateConnector', { id: 'runtime', new_type: 'mockCallback' }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^new_config/) });
    expect((await failure(suite.server.admin.call('UpdateConnector', { id: 'runtime' }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('answers already_exists and not_found as Dex does', async () => {
    expect(await suite.server.admin.call('CreateConnector', { connector: { id: 'runtime', type: 'mockCallback', name: 'Again', config: json({}) } })).toEqual({ already_exists: true });
    expect(await suite.server.admin.call('UpdateConnector', { id: 'nope', new_name: 'x' })).toEqual({ not_found: true });
    expect(await suite.server.admin.call('DeleteConnector', { id: 'nope' })).toEqual({ not_found: true });
  });

  it('keeps config-file connectors and the password DB read-only', async () => {
    for (const attempt of [
      suite.server.admin.call('UpdateConnector', { id: 'mock', new_name: 'Hijacked' }),
      suite.server.admin.call('DeleteConnector', { id: 'local' }),
      suite.server.admin.call('CreateConnector', { connector: { id: 'mock', type: 'mockPassword', name: 'Hijacked', config: json({ username: 'a', password: 'b' }) } }),
    ]) {
      expect((await failure(attempt)).code).toBe(status.FAILED_PRECONDITION);
    }
    expect(await chooser()).toContainEqual(['mock', 'Mock']);
  });

  it('leaves out a stored connector that cannot open, without failing the others', async () => {
    expect(await suite.server.admin.call('CreateConnector', { connector: { id: 'broken', type: 'oidc', name: 'Broken', config: json({ issuer: 'https://idp.example.com', clientID: 'c', clientSecret: 's', redirectURI: `${suite.server.idp.url}/callback`, rootCAs: ['/nonexistent/ca.pem'] }) } }))
      .toEqual({ already_exists: false });
    expect((await chooser()).map(([id]) => id)).toEqual(['mock', 'local', 'runtime']);
    await suite.server.admin.call('DeleteConnector', { id: 'broken' });
  });

  it('closes a deleted connector: off the chooser, refused at /auth', async () => {
    expect(await suite.server.admin.call('DeleteConnector', { id: 'runtime' })).toEqual({ not_found: false });
    expect((await chooser()).map(([id]) => id)).toEqual(['mock', 'local']);
    await expect(logInThrough('runtime', 'second')).rejects.toMatchObject({ error: 'invalid_request', error_description: 'unknown connector "runtime"' });
    expect(suite.server.auditLines().filter((line) => line.type === 'connector_deleted').map((line) => [line.connectorId, line.outcome, line.reason ?? null])).toEqual([
      ['nope', 'refused', 'not_found'], ['local', 'refused', 'read_only'], ['broken', 'succeeded', null], ['runtime', 'succeeded', null],
    ]);
  });
});
