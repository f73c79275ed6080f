/**
 * The federation test bed: a whole idgate issuer (test/helpers/issuer.ts) with oidc, saml and ldap
 * connectors, in front of a real upstream OIDC IdP (oidc-provider), a SAML IdP over HTTP and an
 * OpenLDAP (slapd); and a downstream openid-client RP registered as example-app.
 */
import { createServer } from 'node:http';
import * as client from 'openid-client';
import { EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../../helpers/issuer.js';
import { ADMIN_DN, ADMIN_PW, SUFFIX, freePort, startSlapd, type Slapd } from '../ldap/slapd.js';
import { listen, startUpstreamIdP, type UpstreamIdP } from '../oidc/upstream-idp.js';
import { startHttpSamlIdP, type HttpSamlIdP } from '../saml/http-idp.js';
import { keyFactory } from '../saml/test-idp.js';

export interface Federation {
  idgate: TestIssuer;
  upstream: UpstreamIdP;
  samlIdP: HttpSamlIdP;
  slapd: Slapd;
  rp: client.Configuration;
  /** An authorization request from the RP for `connector`, and how to redeem the callback it ends at. */
  authorize(connector: string): Promise<{ url: URL; redeem(callback: URL): ReturnType<typeof client.authorizationCodeGrant> }>;
  close(): Promise<void>;
}


export const LDAP_ONLY_APP = { id: 'ldap-only-app', secret: 'ldap-only-secret', redirectURI: 'http://127.0.0.1:5555/ldap-only/callback' };

function configYaml(upstreamIssuer: string, ssoURL: string, samlCert: string, slapd: Slapd, silentIssuer: string): string {
  return `
storage:
  type: memory
web:
  http: 127.0.0.1:0
oauth2:
  skipApprovalScreen: true
staticClients:
  - id: ${EXAMPLE_APP.id}
    name: Example App
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
  - id: ${LDAP_ONLY_APP.id}
    name: LDAP-only App
    secret: ${LDAP_ONLY_APP.secret}
    redirectURIs: [${LDAP_ONLY_APP.redirectURI}]
    allowedConnectors: [ldap]
connectors:
  - type: oidc
    id: corp-silent
    name: Corp SSO (not answering)
    config:
      issuer: ${silentIssuer}
      clientID: idgate
      upstreamTimeout: 500ms
  - type: oidc
    id: corp
    name: Corp SSO
    config:
      issuer: ${upstreamIssuer}
      clientID: idgate
      clientSecret: upstream-secret-for-tests
      scopes: [profile, email, groups]
      insecureEnableGroups: true
      getUserInfo: true
      claimModifications:
        modifyGroupNames: { prefix: "corp:" }
  - type: oidc
    id: corp-ops
    name: Corp SSO (ops only)
    config:
      issuer: ${upstreamIssuer}
      clientID: idgate
      clientSecret: upstream-secret-for-tests
      scopes: [profile, email, groups]
      insecureEnableGroups: true
      allowedGroups: [ops]
  - type: saml
    id: corp-saml
    name: Corp SAML
    config:
      ssoURL: ${ssoURL}
      caData: ${Buffer.from(samlCert).toString('base64')}
      usernameAttr: name
      emailAttr: email
      groupsAttr: groups
  - type: ldap
    id: ldap
    name: Directory
    config:
      host: 127.0.0.1:${slapd.port}
      insecureNoSSL: true
      bindDN: ${ADMIN_DN}
      bindPW: ${ADMIN_PW}
      userSearch: { baseDN: "ou=people,${SUFFIX}", username: uid, idAttr: uid, emailAttr: mail, nameAttr: cn }
      groupSearch:
        baseDN: "ou=groups,${SUFFIX}"
        userMatchers: [{ userAttr: DN, groupAttr: member }]
        nameAttr: cn
`;
}

export async function startFederation(): Promise<Federation> {
  const keys = await keyFactory();
  const samlKey = await keys.make('e2e-idp');
  const slapd = await startSlapd();
  await slapd.ldapadd(`dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n` +
    `dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\ndn: ou=groups,${SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n` +
    `dn: uid=dora,ou=people,${SUFFIX}\nobjectClass: inetOrgPerson\nuid: dora\ncn: Dora Directory\nsn: D\nmail: dora@example.org\nuserPassword: dora-password\n\n` +
    `dn: cn=readers,ou=groups,${SUFFIX}\nobjectClass: groupOfNames\ncn: readers\nmember: uid=dora,ou=people,${SUFFIX}\n`);
  const samlIdP = await startHttpSamlIdP(samlKey, {
    nameId: 'sam-persistent-id',
    attributes: { name: ['Sam SAML'], email: ['sam@example.com'], groups: ['wiki-editors'] },
  });
  // An "IdP" that accepts connections and never answers.
  const silent = createServer(() => undefined);
  const silentPort = await listen(silent);
  const upstreamPort = await freePort();
  const idgate = await startTestIssuer({ configYaml: configYaml(`http://127.0.0.1:${upstreamPort}`, samlIdP.ssoURL, samlKey.cert, slapd, `http://127.0.0.1:${silentPort}`) });
  const upstream = await startUpstreamIdP({ redirectURIs: [`${idgate.url}/callback/corp`, `${idgate.url}/callback/corp-ops`], port: upstreamPort });
  upstream.accounts.set('alice', {
    sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true, preferred_username: 'alice', groups: ['admins', 'devs'],
  });
  const rp = await client.discovery(new URL(idgate.url), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(rp);
  return {
    idgate, upstream, samlIdP, slapd, rp,
    async authorize(connector) {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: EXAMPLE_APP.redirectURI,
        scope: 'openid email profile groups offline_access',
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        connector_id: connector,
      });
      return { url, redeem: (callback) => client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }) };
    },
    async close() {
      silent.closeAllConnections();
      await Promise.all([idgate.close(), upstream.close(), samlIdP.close(), slapd.stop(), keys.cleanup(), new Promise((resolve) => silent.close(resolve))]);
    },
  };
}
