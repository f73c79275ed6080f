/**
 * Which second factors a login must pass. Two rules add up. Dex's chain: the client's `mfaChain` (or,
 * without one, `mfa.defaultMFAChain`) and then the connector's own `mfaChain`, each authenticator in
 * order, those whose `connectorTypes` leave this connector out skipped (Dex's rule). Then the acr the
 * request asks for (acr_values, else the client's defaultACRValues): `urn:idgate:acr:mfa` wants any
 * second factor, `phr` a WebAuthn one, among the authenticators that apply to the connector. A step is
 * passed by its authenticator in this login, or by a method of its kind already in the login's `amr`
 * (a session that passed it before: step-up asks only for what is missing).
 */
import type { Config } from '../../config/load.js';
import type { Client } from '../../storage/storage.js';
import { ACR_PHISHING_RESISTANT, AMR, meetsAcr, requiredAcr, type AcrValue } from './acr.js';
import type { MFAAuthenticator, MFAConfig } from './config.js';

/** What the login is through: the connector's id, its type (for connectorTypes) and its own chain. */
export interface LoginConnector {
  id: string;
  type: string;
  mfaChain?: readonly string[];
}

export interface MFARequirementInput {
  mfa: MFAConfig | undefined;
  client: Pick<Client, 'mfaChain'> | undefined;
  connector: LoginConnector;
  acrValues?: readonly string[];
}

/** What the login has done so far. */
export interface MFAProgressView {
  amr: readonly string[];
  /** Authenticator ids passed in this login. */
  passed: readonly string[];
}

export type MFAStep =
  /** A chain entry: this authenticator, and no other, passes it. */
  | { kind: 'authenticator'; authenticator: MFAAuthenticator }
  /** The acr asked for: any one of `authenticators` reaches it. */
  | { kind: 'level'; acr: AcrValue; authenticators: MFAAuthenticator[] }
  /** The acr asked for, with no authenticator that applies to this connector: it cannot be met. */
  | { kind: 'unmet'; acr: AcrValue };

/** A connector as the rules see it: its own chain comes from its config entry (stored connectors have none). */
export function loginConnectorOf(config: Pick<Config, 'connectors'>, connector: { id: string; type: string }): LoginConnector {
  const chain = config.connectors.find((entry) => entry.id === connector.id)?.mfaChain;
  return { id: connector.id, type: connector.type, ...(chain ? { mfaChain: chain } : {}) };
}

/** The authenticators that apply to logins through a connector of `connectorType` (Dex's connectorTypes). */
export function authenticatorsFor(mfa: MFAConfig | undefined, connectorType: string): MFAAuthenticator[] {
  return (mfa?.authenticators ?? []).filter((a) => !a.connectorTypes || a.connectorTypes.length === 0 || a.connectorTypes.includes(connectorType));
}

/** The chain this login must pass, in order, each authenticator once. */
export function requiredChain(input: MFARequirementInput): MFAAuthenticator[] {
  const applicable = authenticatorsFor(input.mfa, input.connector.type);
  const ids = [...(input.client?.mfaChain ?? input.mfa?.defaultMFAChain ?? []), ...(input.connector.mfaChain ?? [])];
  return [...new Set(ids)].flatMap((id) => applicable.filter((a) => a.id === id));
}

/** The RFC 8176 method an authenticator of this type adds to `amr`. */
export function methodOf(authenticator: Pick<MFAAuthenticator, 'type'>): string {
  return authenticator.type === 'WebAuthn' ? AMR.webauthn : AMR.oneTimePassword;
}

function hasPassed(authenticator: MFAAuthenticator, progress: MFAProgressView): boolean {
  return progress.passed.includes(authenticator.id) || progress.amr.includes(methodOf(authenticator));
}

/** The next step the login must pass, or undefined once it has met every rule. */
export function nextMFAStep(input: MFARequirementInput, progress: MFAProgressView): MFAStep | undefined {
  const pending = requiredChain(input).find((authenticator) => !hasPassed(authenticator, progress));
  if (pending) return { kind: 'authenticator', authenticator: pending };
  const acr = requiredAcr(input.acrValues);
  if (acr === undefined || meetsAcr(progress.amr, acr)) return undefined;
  const authenticators = authenticatorsFor(input.mfa, input.connector.type)
    .filter((a) => acr !== ACR_PHISHING_RESISTANT || a.type === 'WebAuthn');
  return authenticators.length > 0 ? { kind: 'level', acr, authenticators } : { kind: 'unmet', acr };
}

/** True when such a login needs a second factor at all (the password grant, which cannot ask for one, is then refused). */
export function requiresSecondFactor(input: MFARequirementInput): boolean {
  return nextMFAStep(input, { amr: [], passed: [] }) !== undefined;
}
