// Every file in config/examples/ is a complete idgate config that the loader accepts, and the
// oidc, saml and ldap examples show every option of their connector.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { connectorFactory } from '../../src/connector.js';

const dir = join(import.meta.dirname, '../../config/examples');
const files = (await readdir(dir)).filter((file) => /\.ya?ml$/.test(file)).sort();
const env = {
  CORP_OIDC_CLIENT_SECRET: 's', LDAP_BIND_PW: 'p', GRAFANA_CLIENT_SECRET: 'g', WIKI_CLIENT_SECRET: 'w', ARGOCD_CLIENT_SECRET: 'a',
};
/** Options an example leaves out on purpose: alternatives to one shown, or settings not to advertise. */
const NOT_SHOWN = new Set(['caData', 'groupsDelim', 'insecureSkipVerify', 'hostedDomains', 'issuerAlias', 'insecureSkipSignatureValidation', 'idpMetadataFile', 'rootCAData', 'clientCert', 'clientKey', 'overrideClaimMapping', 'pkceChallenge']);

describe('config/examples', () => {
  it('has the oidc, saml and ldap examples', () => {
    expect(files).toEqual(expect.arrayContaining(['ldap.yaml', 'oidc.yaml', 'saml.yaml']));
  });

  for (const file of files) {
    it(`${file} passes the config loader`, async () => {
      const config = await loadConfigFile(join(dir, file), env);
      expect(config.connectors.every((connector) => connector.config !== undefined)).toBe(true);
    });
  }

  for (const type of ['oidc', 'saml', 'ldap']) {
    it(`${type}.yaml shows every option of the ${type} connector`, async () => {
      const raw = parse(await readFile(join(dir, `${type}.yaml`), 'utf8')) as { connectors: Array<{ type: string; config: object }> };
      const shown = Object.keys(raw.connectors.find((connector) => connector.type === type)!.config);
      const schema = connectorFactory(type)!.configSchema as unknown as { shape: Record<string, unknown> };
      const options = Object.keys(schema.shape);
      expect(options.length).toBeGreaterThan(10);
      expect(options.filter((option) => !shown.includes(option) && !NOT_SHOWN.has(option))).toEqual([]);
    });
  }

  it('reports connector config problems at connectors[i].config.<path>, cross-field rules included', () => {
    const text = `issuer: http://127.0.0.1:5556/dex
storage: { type: memory }
web: { http: 127.0.0.1:5556 }
connectors:
  - type: ldap
    id: ldap
    name: LDAP
    config: { host: ldap.example.com, userSearch: { baseDN: "dc=x", username: uid }, bindPW: secret }
  - type: saml
    id: saml
    name: SAML
    config: { ssoURL: "https://idp.example.com/sso", ca: a.pem, caData: Zm9v, usernameAttr: name, emailAttr: mail }
  - type: oidc
    id: oidc
    name: OIDC
    config: { issuer: "https://idp.example.com", clientID: x, scope: [openid] }
`;
    let problems: string[] = [];
    try {
      parseConfig(text, 'test.yaml', {});
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems.map((problem) => `${problem.path}: ${problem.message}`);
    }
    expect(problems).toEqual([
      'connectors[0].config.bindPW: is set but bindDN is empty',
      'connectors[1].config.caData: set exactly one of ca or caData, not both',
      'connectors[2].config.scope: unknown key (did you mean "scopes"?)',
    ]);
  });
});
