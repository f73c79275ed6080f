// The SAML attack corpus: every hostile or broken response is refused, each with its own reason.
// Each case starts a real login (a recorded AuthnRequest) and answers it with a response signed by
// the test IdP's key (or an attacker's), then altered the way the attack alters it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError, connectorFactory, type SAMLConnector } from '../../../src/connector.js';
import '../../../connectors/index.js';
import { testContext } from '../context.js';
import { assertionXml, b64, keyFactory, responseXml, signRoot, type AssertionOptions, type KeyPair } from './test-idp.js';

const ACS = 'http://127.0.0.1:5556/dex/callback/corp-saml';
const SP_ENTITY = 'https://idgate.example.test/saml';
const scopes = { offlineAccess: false, groups: true };
const ATTRIBUTES = { name: ['Alice Liddell'], email: ['alice@example.com'], groups: ['devs'] };

let keys: Awaited<ReturnType<typeof keyFactory>>;
let idpKey: KeyPair;
let attackerKey: KeyPair;
let connector: SAMLConnector;

beforeAll(async () => {
  keys = await keyFactory();
  [idpKey, attackerKey] = await Promise.all([keys.make('idp'), keys.make('attacker')]);
  const factory = connectorFactory('saml')!;
  const config = factory.configSchema.parse({
    ssoURL: 'https://idp.example.test/sso', caData: Buffer.from(idpKey.cert).toString('base64'),
    entityIssuer: SP_ENTITY, redirectURI: ACS, usernameAttr: 'name', emailAttr: 'email', groupsAttr: 'groups',
  });
  connector = (await factory.open(config, testContext('corp-saml'))) as SAMLConnector;
});
afterAll(async () => keys?.cleanup());

async function start(authRequestId = 'auth-1') {
  const { requestId } = await connector.postData(scopes, authRequestId);
  const assertion = (o: AssertionOptions = {}) =>
    assertionXml({ audience: SP_ENTITY, recipient: ACS, inResponseTo: requestId, attributes: ATTRIBUTES, ...o });
  const signed = (o: AssertionOptions = {}, key = idpKey) => signRoot(assertion(o), key);
  const response = (body: string, extra: { destination?: string | null; inResponseTo?: string | null } = {}) =>
    responseXml({ destination: ACS, inResponseTo: requestId, body, ...extra });
  const post = (xml: string, id = authRequestId) => connector.handlePost(scopes, b64(xml), id);
  return { requestId, assertion, signed, response, post };
}

async function refused(promise: Promise<unknown>, code: ConnectorError['code'], reason: RegExp): Promise<void> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ConnectorError);
  expect({ code: (error as ConnectorError).code, message: (error as ConnectorError).message }).toEqual({ code, message: expect.stringMatching(reason) });
}

describe('saml attack corpus', () => {
  it('control: the untampered response of the same shape is accepted', async () => {
    const login = await start();
    expect((await login.post(login.response(login.signed()))).email).toBe('alice@example.com');
  });

  it('refuses an unsigned response', async () => {
    const login = await start();
    await refused(login.post(login.response(login.assertion())), 'invalid_response', /the SAML response is not signed/);
  });


  it('refuses a tampered attribute (email changed after signing)', async () => {
    const login = await start();
    const xml = login.response(login.signed()).replace('alice@example.com', 'mallory@example.com');
    await refused(login.post(xml), 'invalid_response', /assertion signature is not valid/);
  });

  it('refuses a tampered NameID', async () => {
    const login = await start();
    const xml = login.response(login.signed()).replace('alice-persistent-id', 'admin-persistent-id');
    await refused(login.post(xml), 'invalid_response', /assertion signature is not valid/);
  });

  it('refuses signature wrapping: a forged assertion beside the signed one moved into Extensions', async () => {
    const login = await start();
    const genuine = login.signed();
    const forged = login.assertion({ nameId: 'admin', attributes: { ...ATTRIBUTES, groups: ['admins'] } });
    const xml = login.response(`<samlp:Extensions>${genuine}</samlp:Extensions>${forged}`);
    await refused(login.post(xml), 'invalid_response', /carries 2 assertions; exactly one is accepted \(signature wrapping\)/);
  });

  it('refuses signature wrapping: the signed assertion nested inside the forged one', async () => {
    const login = await start();
    const genuine = login.signed();
    const forged = login.assertion({ nameId: 'admin' }).replace('</saml:Assertion>', `<saml:Advice>${genuine}</saml:Advice></saml:Assertion>`);
    await refused(login.post(login.response(forged)), 'invalid_response', /carries 2 assertions/);
  });

  it('refuses duplicated assertions (signed original plus a forged copy with the same ID)', async () => {
    const login = await start();
    const genuine = login.signed({ id: '_same-id' });
    const forged = login.assertion({ id: '_same-id', nameId: 'admin' });
    await refused(login.post(login.response(genuine + forged)), 'invalid_response', /carries 2 assertions/);
  });

  it('refuses a forged assertion in a foreign namespace beside the signed one', async () => {
    const login = await start();
    const forged = login.assertion({ nameId: 'admin' })
      .replace(/<(\/?)saml:/g, '<$1evil:')
      .replace('xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"', 'xmlns:evil="urn:example:evil"');
    expect(forged).toMatch(/^<evil:Assertion xmlns:evil="urn:example:evil"/);
    await refused(login.post(login.response(forged + login.signed())), 'invalid_response', /carries 2 assertions/);
  });

  it('refuses a lone signed assertion that is not a direct child of the Response', async () => {
    const login = await start();
    const xml = login.response(`<samlp:Extensions>${login.signed()}</samlp:Extensions>`);
    await refused(login.post(xml), 'invalid_response', /not a direct child of the Response/);
  });

  it('refuses comment injection in NameID', async () => {
    const login = await start();
    const xml = login.response(login.signed({ nameId: 'admin@example.com.evil.test' })).replace('admin@example.com', 'admin@example.com<!---->');
    await refused(login.post(xml), 'invalid_response', /contains an XML comment.*comment injection/);
  });

  it('refuses a replayed response', async () => {
    const login = await start();
    const xml = login.response(login.signed());
    await login.post(xml);
    await refused(login.post(xml), 'replay', /already used \(replayed response\)/);
  });

  it('refuses an unknown InResponseTo', async () => {
    const login = await start();
    const xml = login.response(login.signed({ inResponseTo: '_never-sent' }), { inResponseTo: '_never-sent' });
    await refused(login.post(xml), 'invalid_response', /InResponseTo names no pending login request/);
  });

  it('refuses an InResponseTo made for a different login', async () => {
    const login = await start('auth-1');
    await refused(login.post(login.response(login.signed()), 'auth-2'), 'invalid_response', /belongs to a different login/);
  });

  it('refuses an unsolicited (IdP-initiated) assertion without InResponseTo', async () => {
    const login = await start();
    const xml = login.response(login.signed({ inResponseTo: null }), { inResponseTo: null });
    await refused(login.post(xml), 'invalid_response', /answers no request of ours/);
  });

  it('refuses a Response whose InResponseTo differs from the signed assertion', async () => {
    const login = await start();
    const other = await start();
    const xml = login.response(login.signed(), { inResponseTo: other.requestId });
    await refused(login.post(xml), 'invalid_response', /name different requests/);
  });

  it('refuses the wrong Audience', async () => {
    const login = await start();
    await refused(login.post(login.response(login.signed({ audience: 'https://other-sp.test' }))), 'invalid_response', /wrong Audience/);
  });

  it('refuses the wrong Recipient', async () => {
    const login = await start();
    await refused(login.post(login.response(login.signed({ recipient: 'https://other-sp.test/acs' }))), 'invalid_response', /wrong Recipient/);
  });

  it('refuses the wrong Destination, and a missing one', async () => {
    const login = await start();
    await refused(login.post(login.response(login.signed(), { destination: 'https://other-sp.test/acs' })), 'invalid_response', /wrong Destination/);
    await refused(login.post(login.response(login.signed(), { destination: null })), 'invalid_response', /has no Destination/);
  });

  it('refuses an expired assertion', async () => {
    const login = await start();
    const past = { notBefore: new Date(Date.now() - 3_600_000), notOnOrAfter: new Date(Date.now() - 600_000) };
    await refused(login.post(login.response(login.signed(past))), 'invalid_response', /has expired/);
  });

  it('refuses a not-yet-valid assertion', async () => {
    const login = await start();
    const future = { notBefore: new Date(Date.now() + 600_000), notOnOrAfter: new Date(Date.now() + 3_600_000) };
    await refused(login.post(login.response(login.signed(future))), 'invalid_response', /not yet valid/);
  });

  it('refuses a response signed with a certificate that is not trusted', async () => {
    const login = await start();
    await refused(login.post(login.response(login.signed({}, attackerKey))), 'invalid_response', /certificate that is not trusted/);
  });

  it('refuses a response signed by an untrusted key that names no certificate', async () => {
    const login = await start();
    const xml = login.response(signRoot(login.assertion(), attackerKey, { keyInfo: false }));
    await refused(login.post(xml), 'invalid_response', /assertion signature is not valid/);
  });

  it('refuses SHA-1 signatures by default', async () => {
    const login = await start();
    await refused(login.post(login.response(signRoot(login.assertion(), idpKey, { sha1: true }))), 'invalid_response', /signed with SHA-1/);
  });

  it('refuses a DOCTYPE (entity expansion)', async () => {
    const login = await start();
    const xml = `<!DOCTYPE r [<!ENTITY a "aaaaaaaa">]>${login.response(login.signed())}`;
    await refused(login.post(xml), 'invalid_response', /contains a DOCTYPE/);
  });

  it('refuses malformed XML and a message that is not a Response', async () => {
    const login = await start();
    await refused(login.post('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'), 'invalid_response', /not well-formed XML/);
    await refused(login.post(login.signed()), 'invalid_response', /not a SAML 2.0 Response/);
  });

  it('refuses a document nested thousands of levels deep, at once and with the limit named (no stack overflow)', async () => {
    const login = await start();
    const depth = 20_000;
    const bomb = `${'<x>'.repeat(depth)}${'</x>'.repeat(depth)}`;
    const xml = login.response(login.signed({ attributes: { ...ATTRIBUTES, name: ['Alice'] } })).replace('<samlp:Status>', `<samlp:Extensions>${bomb}</samlp:Extensions><samlp:Status>`);
    await refused(login.post(xml), 'invalid_response', /nested more than 64 elements deep/);
  });

  it('refuses a response with a huge number of attributes or values', async () => {
    const login = await start();
    // 10,500 values (21,000 nodes) still fit in the 512 KiB size limit.
    const values = Array.from({ length: 10_500 }, () => 'v');
    const xml = login.response(login.signed({ attributes: { ...ATTRIBUTES, junk: values } }));
    expect(xml.length).toBeLessThan(512 * 1024);
    await refused(login.post(xml), 'invalid_response', /more than 20000 XML nodes and attributes/);
    const elements = await start();
    const flat = elements.response(elements.signed()).replace('<samlp:Status>', `<samlp:Extensions>${'<a/>'.repeat(25_000)}</samlp:Extensions><samlp:Status>`);
    await refused(elements.post(flat), 'invalid_response', /more than 20000 XML nodes and attributes/);
  });

  it('refuses an element carrying a huge number of XML attributes', async () => {
    const login = await start();
    const attributes = Array.from({ length: 25_000 }, (_, i) => `a${i}=""`).join(' ');
    const xml = login.response(login.signed()).replace('<samlp:Status>', `<samlp:Extensions><x ${attributes}/></samlp:Extensions><samlp:Status>`);
    expect(xml.length).toBeLessThan(512 * 1024);
    await refused(login.post(xml), 'invalid_response', /more than 20000 XML nodes and attributes/);
  });

  it('reports an IdP error status as an upstream error', async () => {
    const login = await start();
    const xml = responseXml({ destination: ACS, inResponseTo: login.requestId, status: 'urn:oasis:names:tc:SAML:2.0:status:Responder', body: '' });
    await refused(login.post(xml), 'upstream_error', /identity provider reported Responder/);
  });
});

// A signed Response around an unsigned assertion (Keycloak's default; Dex accepts it): the Response's
// enveloped signature is what vouches for the assertion, and every wrapping defense still holds.
describe('saml: assertions vouched for by the Response signature only', () => {
  it('accepts the genuine case, reading the identity from the signed Response', async () => {
    const login = await start();
    const identity = await login.post(signRoot(login.response(login.assertion()), idpKey));
    expect({ userId: identity.userId, email: identity.email, groups: identity.groups }).toEqual({ userId: 'alice-persistent-id', email: 'alice@example.com', groups: ['devs'] });
  });

  it('accepts a signed Response around a signed assertion, and refuses it when the Response signature is broken', async () => {
    const login = await start();
    expect((await login.post(signRoot(login.response(login.signed()), idpKey))).email).toBe('alice@example.com');
    const other = await start();
    // The assertion keeps its valid signature; the Response's own signature no longer matches.
    const broken = signRoot(other.response(other.signed()), idpKey).replace(/(<samlp:Response[^>]*IssueInstant=")[^"]+/, '$12001-01-01T00:00:00.000Z');
    await refused(other.post(broken), 'invalid_response', /Response signature is not valid/);
  });

  it('refuses an attribute changed after the Response was signed', async () => {
    const login = await start();
    const xml = signRoot(login.response(login.assertion()), idpKey).replace('alice@example.com', 'mallory@example.com');
    await refused(login.post(xml), 'invalid_response', /Response signature is not valid/);
  });

  it('refuses a Response signed by an untrusted key (with and without its certificate)', async () => {
    const login = await start();
    await refused(login.post(signRoot(login.response(login.assertion()), attackerKey)), 'invalid_response', /certificate that is not trusted/);
    const other = await start();
    await refused(other.post(signRoot(other.response(other.assertion()), attackerKey, { keyInfo: false })), 'invalid_response', /Response signature is not valid/);
  });

  it('refuses a forged assertion added beside the one the Response signature covers', async () => {
    const login = await start();
    const signed = signRoot(login.response(login.assertion()), idpKey);
    const forged = login.assertion({ nameId: 'admin', attributes: { ...ATTRIBUTES, groups: ['admins'] } });
    await refused(login.post(signed.replace('</samlp:Response>', `${forged}</samlp:Response>`)), 'invalid_response', /carries 2 assertions/);
  });

  it('refuses a genuine signed Response wrapped inside a forged one', async () => {
    const login = await start();
    const genuine = signRoot(login.response(login.assertion()), idpKey);
    const forged = login.assertion({ nameId: 'admin' });
    const outer = login.response(`<samlp:Extensions>${genuine}</samlp:Extensions>${forged}`);
    await refused(login.post(outer), 'invalid_response', /carries 2 assertions/);
  });

  it('refuses a forged Response that carries a copy of a genuine Response signature', async () => {
    const login = await start();
    const genuine = signRoot(login.response(login.assertion()), idpKey);
    const signature = /<(ds:)?Signature[\s\S]*<\/(ds:)?Signature>/.exec(genuine)![0];
    const forged = login.response(login.assertion({ nameId: 'admin' })).replace('</saml:Issuer>', `</saml:Issuer>${signature}`);
    await refused(login.post(forged), 'invalid_response', /signature wrapping|Response signature is not valid/);
  });

  it('refuses a Response-level signature that points at the unsigned assertion instead of the Response', async () => {
    const login = await start();
    const assertion = login.assertion({ id: '_inner' });
    const signedAssertion = signRoot(assertion, idpKey);
    // Move the assertion's signature up to be the Response's child: it now covers another element than its parent.
    const signature = /<(ds:)?Signature[\s\S]*<\/(ds:)?Signature>/.exec(signedAssertion)![0];
    const xml = login.response(assertion).replace('</saml:Issuer>', `</saml:Issuer>${signature}`);
    await refused(login.post(xml), 'invalid_response', /does not cover the element that carries it \(signature wrapping\)/);
  });

  it('refuses a SHA-1 Response signature by default', async () => {
    const login = await start();
    await refused(login.post(signRoot(login.response(login.assertion()), idpKey, { sha1: true })), 'invalid_response', /signed with SHA-1/);
  });

  it('still checks Destination, Recipient, Audience and InResponseTo in this mode', async () => {
    const a = await start();
    await refused(a.post(signRoot(a.response(a.assertion(), { destination: 'https://other-sp.test/acs' }), idpKey)), 'invalid_response', /wrong Destination/);
    const b = await start();
    await refused(b.post(signRoot(b.response(b.assertion({ recipient: 'https://other-sp.test/acs' })), idpKey)), 'invalid_response', /wrong Recipient/);
    const c = await start();
    await refused(c.post(signRoot(c.response(c.assertion({ audience: 'https://other-sp.test' })), idpKey)), 'invalid_response', /wrong Audience/);
    const d = await start();
    await refused(d.post(signRoot(d.response(d.assertion({ inResponseTo: '_never-sent' }), { inResponseTo: '_never-sent' }), idpKey)), 'invalid_response', /InResponseTo names no pending login request/);
  });
});
