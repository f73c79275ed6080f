/**
 * The mfa section and its references, checked when the config is read (Dex's mfa.authenticators,
 * defaultMFAChain and a client's mfaChain, plus a connector's mfaChain and a client's
 * defaultACRValues): every key that is accepted works, and each problem names its path and reason.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';

const base = `issuer: https://login.example.com/dex
storage: { type: memory }
web: { http: 127.0.0.1:5556 }
`;
const authenticators = `mfa:
  authenticators:
    - { id: totp, type: TOTP, config: { issuer: Acme } }
    - { id: key, type: WebAuthn, config: { rpDisplayName: Acme, userVerification: required, timeout: 2m } }
  defaultMFAChain: [totp]
`;

function problemsOf(yaml: string): string[] {
  try {
    parseConfig(`${base}${yaml}`, 'test.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('mfa config', () => {
  it("takes Dex's authenticators, defaults and chains, and our connector chain and defaultACRValues", () => {
    const yaml = `${authenticators}staticClients:
  - { id: app, secret: s3cret, redirectURIs: [https://app.example.com/cb], mfaChain: [totp, key], defaultACRValues: [urn:idgate:acr:mfa] }
connectors:
  - { type: mockCallback, id: mock, name: Mock, mfaChain: [key] }
`;
    expect(problemsOf(yaml)).toEqual([]);
    const config = parseConfig(`${base}${yaml}`, 'test.yaml', {});
    expect(config.mfa?.authenticators[1]).toMatchObject({ type: 'WebAuthn', config: { userVerification: 'required', timeout: 120_000, attestationPreference: 'none' } });
    expect(config.mfa?.recoveryCodes).toBe(10);
    expect(config.connectors[0]?.mfaChain).toEqual(['key']);
    expect(config.staticClients[0]).toMatchObject({ mfaChain: ['totp', 'key'], defaultACRValues: ['urn:idgate:acr:mfa'] });
  });

  it('names an authenticator that a chain references but that does not exist', () => {
    expect(problemsOf(`${authenticators.replace('[totp]', '[totpp]')}staticClients:
  - { id: app, secret: s3cret, redirectURIs: [https://app.example.com/cb], mfaChain: [nope] }
connectors:
  - { type: mockCallback, id: mock, name: Mock, mfaChain: [gone] }
`)).toEqual([
      'mfa.defaultMFAChain[0]: unknown authenticator "totpp"; known: totp, key',
      'connectors[0].mfaChain[0]: unknown authenticator "gone"; known: totp, key',
      'staticClients[0].mfaChain[0]: unknown authenticator "nope"; known: totp, key',
    ]);
  });

  it('refuses duplicate ids, unknown types, and attestation it would not verify', () => {
    const problems = problemsOf(`mfa:
  authenticators:
    - { id: a, type: TOTP }
    - { id: a, type: TOTP }
    - { id: b, type: SMS }
    - { id: c, type: WebAuthn, config: { attestationPreference: indirect } }
`);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^mfa\.authenticators\[2\]\.type: /),
      expect.stringMatching(/^mfa\.authenticators\[3\]\.config\.attestationPreference: only "none" is supported/),
    ]));
    expect(problemsOf('mfa:\n  authenticators:\n    - { id: a, type: TOTP }\n    - { id: a, type: TOTP }\n')).toEqual(['mfa.authenticators[1].id: duplicate authenticator id "a"']);
  });

  it('refuses acr values idgate does not issue or that no authenticator can reach', () => {
    const client = (values: string) => `staticClients:\n  - { id: app, secret: s3cret, redirectURIs: [https://app.example.com/cb], defaultACRValues: [${values}] }\n`;
    expect(problemsOf(client('urn:example:gold'))).toEqual([
      'staticClients[0].defaultACRValues[0]: unknown acr value "urn:example:gold"; idgate issues urn:idgate:acr:single-factor, urn:idgate:acr:mfa, phr',
    ]);
    expect(problemsOf(client('urn:idgate:acr:mfa'))).toEqual(['staticClients[0].defaultACRValues[0]: "urn:idgate:acr:mfa" needs an authenticator in mfa.authenticators']);
    expect(problemsOf(`mfa:\n  authenticators: [{ id: totp, type: TOTP }]\n${client('phr')}`)).toEqual([
      'staticClients[0].defaultACRValues[0]: "phr" needs a WebAuthn authenticator in mfa.authenticators',
    ]);
  });

  it('refuses an rpID that is not the host of the origins ceremonies come from', () => {
    expect(problemsOf('mfa:\n  authenticators: [{ id: key, type: WebAuthn, config: { rpID: example.org } }]\n')).toEqual([
      'mfa.authenticators[0].config.rpID: "example.org" is not https://login.example.com\'s host nor a domain it ends with (WebAuthn would refuse every ceremony)',
    ]);
    expect(problemsOf('mfa:\n  authenticators: [{ id: key, type: WebAuthn, config: { rpID: example.com } }]\n')).toEqual([]);
    expect(problemsOf('mfa:\n  authenticators: [{ id: key, type: WebAuthn, config: { rpOrigins: [https://login.example.com/] } }]\n')[0]).toMatch(/rpOrigins\[0\]: must be an origin/);
  });
});
