/** The acr levels and the rules that decide which second factors a login must pass. */
import { describe, expect, it } from 'vitest';
import { ACR_MFA, ACR_SINGLE_FACTOR, amrWithSecondFactor, reachedAcr, requiredAcr } from '../../../src/sessions/mfa/acr.js';
import { mfaConfigSchema, type MFAConfig } from '../../../src/sessions/mfa/config.js';
import { nextMFAStep, requiredChain, type MFARequirementInput } from '../../../src/sessions/mfa/policy.js';

const mfa: MFAConfig = mfaConfigSchema.parse({
  authenticators: [
    { id: 'totp', type: 'TOTP' },
    { id: 'passkey', type: 'WebAuthn' },
    { id: 'ldap-totp', type: 'TOTP', connectorTypes: ['ldap'] },
  ],
});
const local = { id: 'local', type: 'local' };
const start = { amr: ['pwd'], passed: [] };

function input(overrides: Partial<MFARequirementInput>): MFARequirementInput {
  return { mfa, client: undefined, connector: local, ...overrides };
}

describe('acr levels', () => {
  it('orders single-factor < mfa < phr by the methods used', () => {
    expect(reachedAcr(['pwd'])).toBe(ACR_SINGLE_FACTOR);
    expect(reachedAcr(['pwd', 'otp', 'mfa'])).toBe(ACR_MFA);
    expect(reachedAcr(['pwd', 'hwk', 'mfa'])).toBe('phr');
  });

  it('takes the lowest known value of acr_values as the requirement and ignores unknown ones', () => {
    expect(requiredAcr(['phr', ACR_MFA])).toBe(ACR_MFA);
    expect(requiredAcr(['urn:example:unknown'])).toBeUndefined();
    expect(requiredAcr(['urn:example:unknown', 'phr'])).toBe('phr');
  });

  it('adds mfa to amr once a second factor joins', () => {
    expect(amrWithSecondFactor(['pwd'], 'otp')).toEqual(['pwd', 'otp', 'mfa']);
    expect(amrWithSecondFactor(['pwd', 'otp', 'mfa'], 'hwk')).toEqual(['pwd', 'otp', 'hwk', 'mfa']);
  });
});

describe('which second factor a login needs', () => {
  it('needs none without a chain or acr', () => {
    expect(nextMFAStep(input({}), start)).toBeUndefined();
  });

  it("asks for the default chain, and a client's own mfaChain replaces it ([] meaning none)", () => {
    const withDefault = { ...mfa, defaultMFAChain: ['totp'] };
    expect(nextMFAStep(input({ mfa: withDefault }), start)).toMatchObject({ kind: 'authenticator', authenticator: { id: 'totp' } });
    expect(nextMFAStep(input({ mfa: withDefault, client: { mfaChain: ['passkey'] } }), start)).toMatchObject({ authenticator: { id: 'passkey' } });
    expect(nextMFAStep(input({ mfa: withDefault, client: { mfaChain: [] } }), start)).toBeUndefined();
  });

  it("adds the connector's chain after the client's, each authenticator once, in order", () => {
    const chain = requiredChain(input({ client: { mfaChain: ['totp'] }, connector: { ...local, mfaChain: ['passkey', 'totp'] } }));
    expect(chain.map((a) => a.id)).toEqual(['totp', 'passkey']);
    const afterTotp = nextMFAStep(input({ client: { mfaChain: ['totp'] }, connector: { ...local, mfaChain: ['passkey'] } }), { amr: ['pwd', 'otp', 'mfa'], passed: ['totp'] });
    expect(afterTotp).toMatchObject({ kind: 'authenticator', authenticator: { id: 'passkey' } });
  });

  it("skips chain entries whose connectorTypes leave the connector out (Dex's rule)", () => {
    expect(requiredChain(input({ client: { mfaChain: ['ldap-totp'] } }))).toEqual([]);
    expect(requiredChain(input({ client: { mfaChain: ['ldap-totp'] }, connector: { id: 'corp', type: 'ldap' } })).map((a) => a.id)).toEqual(['ldap-totp']);
  });

  it('asks for any applicable second factor for urn:idgate:acr:mfa, and WebAuthn only for phr', () => {
    expect(nextMFAStep(input({ acrValues: [ACR_MFA] }), start)).toMatchObject({ kind: 'level', acr: ACR_MFA, authenticators: [{ id: 'totp' }, { id: 'passkey' }] });
    expect(nextMFAStep(input({ acrValues: ['phr'] }), start)).toMatchObject({ kind: 'level', acr: 'phr', authenticators: [{ id: 'passkey' }] });
  });

  it('steps up only for what is missing: a session that passed TOTP meets mfa but not phr', () => {
    const afterOtp = { amr: ['pwd', 'otp', 'mfa'], passed: [] };
    expect(nextMFAStep(input({ acrValues: [ACR_MFA] }), afterOtp)).toBeUndefined();
    expect(nextMFAStep(input({ client: { mfaChain: ['totp'] } }), afterOtp)).toBeUndefined();
    expect(nextMFAStep(input({ acrValues: ['phr'] }), afterOtp)).toMatchObject({ kind: 'level', acr: 'phr' });
  });

  it('cannot meet an acr when no authenticator applies to the connector', () => {
    const ldapOnly = mfaConfigSchema.parse({ authenticators: [{ id: 'ldap-totp', type: 'TOTP', connectorTypes: ['ldap'] }] });
    expect(nextMFAStep(input({ mfa: ldapOnly, acrValues: [ACR_MFA] }), start)).toEqual({ kind: 'unmet', acr: ACR_MFA });
  });
});
