// The saml connector against responses signed by a test IdP with its own key: a good login, the
// options (groups, key rollover, metadata import, signed AuthnRequests, SP metadata, refresh), and
// the attack corpus, each refused with its specific reason.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFactory, type RefreshConnector, type SAMLConnector } from '../../../src/connector.js';
import '../../../connectors/index.js';
import { MemoryConnectorStore } from '../memory-store.js';
import { refusal, testContext } from '../context.js';
import { IDP_ENTITY, assertionXml, b64, encryptAssertion, keyFactory, metadataXml, responseXml, signRoot, type AssertionOptions, type KeyPair } from './test-idp.js';

const ACS = 'http://127.0.0.1:5556/dex/callback/corp-saml';
const SP_ENTITY = 'https://idgate.example.test/saml';
const SSO = 'https://idp.example.test/sso';
const scopes = { offlineAccess: true, groups: true };
type Connector = SAMLConnector & RefreshConnector;

let keys: Awaited<ReturnType<typeof keyFactory>>;
let idpKey: KeyPair;
let rolloverKey: KeyPair;
let attackerKey: KeyPair;
let spKey: KeyPair;

beforeAll(async () => {
  keys = await keyFactory();
  [idpKey, rolloverKey, attackerKey, spKey] = await Promise.all([keys.make('idp'), keys.make('idp-next'), keys.make('attacker'), keys.make('sp')]);
});
afterAll(async () => keys?.cleanup());

async function open(config: Record<string, unknown> = {}, options: { store?: MemoryConnectorStore; now?: () => number } = {}): Promise<Connector> {
  const factory = connectorFactory('saml')!;
  const parsed = factory.configSchema.parse({
    ssoURL: SSO,
    caData: Buffer.from(idpKey.cert).toString('base64'),
    entityIssuer: SP_ENTITY,
    ssoIssuer: IDP_ENTITY,
    redirectURI: ACS,
    usernameAttr: 'name',
    emailAttr: 'email',
    groupsAttr: 'groups',
    ...config,
  });
  const context = testContext('corp-saml', { now: options.now });
  if (options.store) context.store = options.store;
  return (await factory.open(parsed, context)) as Connector;
}

const ATTRIBUTES = { name: ['Alice Liddell'], email: ['alice@example.com'], groups: ['admins', 'devs'] };

/** A started login and a builder of answers to it. */
async function start(connector: Connector, authRequestId = 'auth-1') {
  const { requestId, samlRequest, ssoURL } = await connector.postData(scopes, authRequestId);
  const assertion = (o: AssertionOptions = {}) =>
    assertionXml({ audience: SP_ENTITY, recipient: ACS, inResponseTo: requestId, attributes: ATTRIBUTES, ...o });
  const signed = (o: AssertionOptions = {}, key = idpKey) => signRoot(assertion(o), key);
  const response = (body: string, extra: { destination?: string | null; inResponseTo?: string | null } = {}) =>
    b64(responseXml({ destination: ACS, inResponseTo: requestId, body, ...extra }));
  const post = (samlResponse: string, id = authRequestId) => connector.handlePost(scopes, samlResponse, id);
  return { requestId, samlRequest, ssoURL, assertion, signed, response, post };
}

describe('saml connector: login', () => {
  it('accepts a signed assertion and maps NameID and attributes to the identity', async () => {
    const connector = await open();
    const login = await start(connector);
    const identity = await login.post(login.response(login.signed()));
    expect(identity).toMatchObject({
      userId: 'alice-persistent-id', username: 'Alice Liddell', email: 'alice@example.com', emailVerified: true, groups: ['admins', 'devs'],
    });
  });

  it('hands the assertion\'s attributes over as claims, each a list of values', async () => {
    const connector = await open();
    const login = await start(connector);
    const identity = await login.post(login.response(login.signed({ attributes: { ...ATTRIBUTES, department: ['R&D'] } })));
    expect(identity.claims).toEqual({ ...ATTRIBUTES, department: ['R&D'] });
  });

  it('accepts an assertion signed inside a signed response', async () => {
    const connector = await open();
    const login = await start(connector);
    const xml = signRoot(responseXml({ destination: ACS, inResponseTo: login.requestId, body: login.signed() }), idpKey);
    expect((await login.post(b64(xml))).userId).toBe('alice-persistent-id');
  });

  it('sends an AuthnRequest for the POST binding naming our ACS, entity and NameID policy, and records it', async () => {
    const store = new MemoryConnectorStore();
    const connector = await open({ nameIDPolicyFormat: 'emailAddress' }, { store });
    const { requestId, samlRequest, ssoURL } = await connector.postData(scopes, 'auth-9');
    const xml = Buffer.from(samlRequest, 'base64').toString('utf8');
    expect(ssoURL).toBe(SSO);
    expect(xml).toContain(`ID="${requestId}"`);
    expect(xml).toContain(`AssertionConsumerServiceURL="${ACS}"`);
    expect(xml).toContain(`Destination="${SSO}"`);
    expect(xml).toMatch(new RegExp(`<saml:Issuer[^>]*>${SP_ENTITY}</saml:Issuer>`));
    expect(xml).toContain('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');
    expect(store.requests.get(requestId)?.authRequestId).toBe('auth-9');
  });

  it('signs the AuthnRequest (RSA-SHA256) with signingKey, verifiable with signingCert', async () => {
    const connector = await open({ signingKey: spKey.keyFile, signingCert: spKey.certFile });
    const xml = Buffer.from((await connector.postData(scopes, 'a')).samlRequest, 'base64').toString('utf8');
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const signature = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0]!;
    expect(signature.toString()).toContain('rsa-sha256');
    const verifier = new SignedXml({ publicCert: spKey.cert });
    verifier.loadSignature(signature.toString());
    expect(verifier.checkSignature(xml)).toBe(true);
  });

  it('publishes SP metadata with the ACS, entity ID and the signing certificate', async () => {
    const connector = await open({ signingKey: spKey.keyFile, signingCert: spKey.certFile });
    const metadata = connector.metadata!();
    expect(metadata).toContain(`entityID="${SP_ENTITY}"`);
    expect(metadata).toContain(`Location="${ACS}"`);
    expect(metadata).toContain(spKey.cert.split('\n')[1]);
  });

  it('decrypts an EncryptedAssertion with decryptionKey and still requires its signature', async () => {
    const connector = await open({ decryptionKey: spKey.keyFile, decryptionCert: spKey.certFile });
    const login = await start(connector);
    expect((await login.post(login.response(encryptAssertion(login.signed(), spKey.cert)))).userId).toBe('alice-persistent-id');
    expect(connector.metadata!()).toMatch(/KeyDescriptor use="encryption"/);

    const unsigned = await start(connector);
    const error = await refusal(unsigned.post(unsigned.response(encryptAssertion(unsigned.assertion(), spKey.cert))));
    expect(error.message).toMatch(/assertion signature is not valid/);

    const forged = await start(connector);
    const byAttacker = await refusal(forged.post(forged.response(encryptAssertion(forged.signed({}, attackerKey), spKey.cert))));
    expect(byAttacker.message).toMatch(/assertion signature is not valid/);
  });

  it('refuses an EncryptedAssertion when no decryptionKey is configured', async () => {
    const connector = await open();
    const login = await start(connector);
    const error = await refusal(login.post(login.response(encryptAssertion(login.signed(), spKey.cert))));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/could not be decrypted|decryption key/i);
  });

  it('checks InResponseTo against the shared store, so another replica can finish the login', async () => {
    const store = new MemoryConnectorStore();
    const replicaA = await open({}, { store });
    const replicaB = await open({}, { store });
    const login = await start(replicaA);
    expect((await replicaB.handlePost(scopes, login.response(login.signed()), 'auth-1')).email).toBe('alice@example.com');
  });

  it('trusts every certificate of a ca bundle (IdP key rollover)', async () => {
    const bundle = join(keys.dir, 'bundle.pem');
    await writeFile(bundle, idpKey.cert + rolloverKey.cert);
    const connector = await open({ caData: undefined, ca: bundle });
    const login = await start(connector);
    expect((await login.post(login.response(login.signed({}, rolloverKey)))).userId).toBe('alice-persistent-id');
  });

  it('imports ssoURL, ssoIssuer and certificates from idpMetadataFile', async () => {
    const file = join(keys.dir, 'idp-metadata.xml');
    await writeFile(file, metadataXml(IDP_ENTITY, 'https://idp.example.test/sso/post', [rolloverKey.cert]));
    const connector = await open({ caData: undefined, ssoURL: undefined, ssoIssuer: undefined, idpMetadataFile: file });
    const login = await start(connector);
    expect(login.ssoURL).toBe('https://idp.example.test/sso/post');
    expect((await login.post(login.response(login.signed({}, rolloverKey)))).userId).toBe('alice-persistent-id');
    const other = await start(connector);
    const error = await refusal(other.post(other.response(other.signed({ issuer: 'https://other-idp.test' }, rolloverKey))));
    expect(error.message).toMatch(/not by the configured ssoIssuer/);
  });

  it('splits groups with groupsDelim, refuses people outside allowedGroups and filters with filterGroups', async () => {
    const delimited = await open({ groupsDelim: ';', modifyGroupNames: { prefix: 'saml:' } });
    const one = await start(delimited);
    const identity = await one.post(one.response(one.signed({ attributes: { ...ATTRIBUTES, groups: ['admins;devs'] } })));
    expect(identity.groups).toEqual(['saml:admins', 'saml:devs']);

    const restricted = await open({ allowedGroups: ['ops'] });
    const two = await start(restricted);
    const error = await refusal(two.post(two.response(two.signed())));
    expect(error.code).toBe('not_in_allowed_groups');
    expect(error.message).toMatch(/"Alice Liddell" is not a member of any group allowed/);

    const filtered = await open({ allowedGroups: ['devs'], filterGroups: true });
    const three = await start(filtered);
    expect((await three.post(three.response(three.signed()))).groups).toEqual(['devs']);
  });

  it('reads usernameAttr and emailAttr from the assertion attributes only, never from other profile fields', async () => {
    const connector = await open({ usernameAttr: 'issuer', emailAttr: 'nameID' });
    const login = await start(connector);
    const error = await refusal(login.post(login.response(login.signed())));
    expect(error.message).toMatch(/no "issuer" attribute \(usernameAttr\)/);
  });

  it('refreshes from the identity cached at login until refreshMaxAge', async () => {
    let now = Date.now();
    const connector = await open({ refreshMaxAge: '1h' }, { now: () => now });
    const login = await start(connector);
    const identity = await login.post(login.response(login.signed()));
    now += 30 * 60_000;
    expect(await connector.refresh(scopes, identity)).toMatchObject({ userId: 'alice-persistent-id', groups: ['admins', 'devs'] });
    now += 31 * 60_000;
    const error = await refusal(connector.refresh(scopes, identity));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/older than refreshMaxAge/);
  });
});
