/**
 * The test SAML IdP behind HTTP, for end-to-end logins: it takes the SP's AuthnRequest (HTTP-POST
 * binding), reads its ID, ACS URL and Issuer, and answers with an auto-POST form carrying a signed
 * assertion for `user` back to the ACS with the same RelayState.
 */
import { createServer } from 'node:http';
import { DOMParser } from '@xmldom/xmldom';
import { listen } from '../oidc/upstream-idp.js';
import { assertionXml, b64, responseXml, signRoot, type KeyPair } from './test-idp.js';

export interface SamlUser {
  nameId: string;
  attributes: Record<string, string[]>;
}

export interface HttpSamlIdP {
  ssoURL: string;
  user: SamlUser;
  close(): Promise<void>;
}

const escapeAttr = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export async function startHttpSamlIdP(key: KeyPair, user: SamlUser, port = 0): Promise<HttpSamlIdP> {
  const idp = { user } as HttpSamlIdP;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const request = new DOMParser().parseFromString(Buffer.from(form.get('SAMLRequest') ?? '', 'base64').toString('utf8'), 'text/xml').documentElement!;
      const acs = request.getAttribute('AssertionConsumerServiceURL')!;
      const spEntity = request.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Issuer')[0]!.textContent!;
      const requestId = request.getAttribute('ID')!;
      const assertion = signRoot(assertionXml({ audience: spEntity, recipient: acs, inResponseTo: requestId, ...idp.user }), key);
      const samlResponse = b64(responseXml({ destination: acs, inResponseTo: requestId, body: assertion }));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
        `<!doctype html><html><body><form method="post" action="${escapeAttr(acs)}">` +
          `<input type="hidden" name="SAMLResponse" value="${samlResponse}">` +
          `<input type="hidden" name="RelayState" value="${escapeAttr(form.get('RelayState') ?? '')}">` +
          `<button type="submit">Continue</button></form><script>document.forms[0].submit()</script></body></html>`,
      );
    });
  });
  idp.ssoURL = `http://127.0.0.1:${await listen(server, port)}/sso`;
  idp.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return idp;
}
