/**
 * The `mfa` section of the config, in Dex's shape (master's `mfa.authenticators[]` with `type: TOTP |
 * WebAuthn`, `connectorTypes`, `defaultMFAChain`, and a client's `mfaChain`), plus what idgate adds:
 * a connector's own `mfaChain`, a client's `defaultACRValues` (OpenID registration's
 * `default_acr_values`) and the number of recovery codes. The cross-checks name the config path of
 * each reference that cannot work. (Composed into the main schema in src/config/schema.ts.)
 */
import { z } from 'zod';
import { duration } from '../../config/duration.js';
import { ACR_MFA, ACR_PHISHING_RESISTANT, ACR_VALUES, isAcrValue, levelOf } from './acr.js';

const authenticatorId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 letters, digits, ".", "_" or "-"' });
const connectorTypes = z.array(z.string().min(1)).optional();

const totpConfig = z.strictObject({
  /** The name the authenticator app shows beside the account; frontend.issuer (or "idgate") by default. */
  issuer: z.string().min(1).optional(),
});

const hostName = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const webOrigin = z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) && new URL(value).origin === value, {
  message: 'must be an origin: scheme, host and port, no path or trailing slash (e.g. https://login.example.com)',
});

const webauthnConfig = z.strictObject({
  /** The name the browser's passkey dialog shows; frontend.issuer (or "idgate") by default. */
  rpDisplayName: z.string().min(1).optional(),
  /** The relying party ID, a domain; the issuer URL's host name by default. */
  rpID: z.string().regex(hostName, { message: 'must be a lowercase domain name (e.g. login.example.com), no scheme or port' }).optional(),
  /** Origins ceremonies may come from; the issuer URL's origin by default. */
  rpOrigins: z.array(webOrigin).min(1, { message: 'must list at least one origin' }).optional(),
  attestationPreference: z
    .string()
    .refine((value) => value === 'none', {
      message: 'only "none" is supported: idgate does not verify attestation statements (no metadata service), so asking for them would change nothing',
    })
    .default('none'),
  userVerification: z.enum(['required', 'preferred', 'discouraged']).default('preferred'),
  /** "" (Dex's spelling of any), platform or cross-platform. */
  authenticatorAttachment: z.enum(['', 'platform', 'cross-platform']).default(''),
  timeout: duration('60s', { positive: true }),
});

const authenticatorSchema = z.discriminatedUnion('type', [
  z.strictObject({ id: authenticatorId, type: z.literal('TOTP'), config: totpConfig.prefault({}), connectorTypes }),
  z.strictObject({ id: authenticatorId, type: z.literal('WebAuthn'), config: webauthnConfig.prefault({}), connectorTypes }),
]);

export const mfaConfigSchema = z.strictObject({
  authenticators: z.array(authenticatorSchema).default([]),
  /** Authenticators every login must pass, in order, for clients without their own mfaChain. */
  defaultMFAChain: z.array(authenticatorId).default([]),
  /** Our own: recovery codes handed out once at enrollment (each single-use); 0 hands out none. */
  recoveryCodes: z.number().int().min(0).max(20).default(10),
});

export type MFAConfig = z.output<typeof mfaConfigSchema>;
export type MFAAuthenticator = MFAConfig['authenticators'][number];
export type TOTPAuthenticator = Extract<MFAAuthenticator, { type: 'TOTP' }>;
export type WebAuthnAuthenticator = Extract<MFAAuthenticator, { type: 'WebAuthn' }>;

/** The per-client keys (client metadata), spread into the static client schema. */
export const CLIENT_MFA_KEYS = {
  /** Dex's: authenticators this client's logins must pass, in order; [] means none (not even the default chain). */
  mfaChain: z.array(authenticatorId).optional(),
  /** OpenID registration's default_acr_values: the acr_values of a request that names none. */
  defaultACRValues: z.array(z.string().min(1)).min(1, { message: 'must list at least one value' }).optional(),
};

/** The per-connector key, spread into the connector schema. */
export const CONNECTOR_MFA_KEYS = {
  /** Our own: authenticators every login through this connector must pass, after the client's chain. */
  mfaChain: z.array(authenticatorId).optional(),
};

interface Issue {
  path: PropertyKey[];
  message: string;
}

interface CheckedConfig {
  issuer: string;
  mfa?: MFAConfig;
  staticClients: ReadonlyArray<{ mfaChain?: string[]; defaultACRValues?: string[] }>;
  connectors: ReadonlyArray<{ mfaChain?: string[] }>;
}

/** What cannot work in the MFA keys: unknown or duplicate authenticators, acr values nothing can reach. */
export function mfaConfigIssues(config: CheckedConfig): Issue[] {
  const issues: Issue[] = [];
  const authenticators = config.mfa?.authenticators ?? [];
  const ids = new Set<string>();
  authenticators.forEach((authenticator, index) => {
    if (ids.has(authenticator.id)) issues.push({ path: ['mfa', 'authenticators', index, 'id'], message: `duplicate authenticator id "${authenticator.id}"` });
    ids.add(authenticator.id);
    if (authenticator.type === 'WebAuthn') issues.push(...rpIssues(config.issuer, authenticator, ['mfa', 'authenticators', index, 'config']));
  });
  const known = [...ids].join(', ') || 'none are configured (mfa.authenticators)';
  const checkChain = (chain: readonly string[] | undefined, path: PropertyKey[]) => chain?.forEach((id, index) => {
    if (!ids.has(id)) issues.push({ path: [...path, index], message: `unknown authenticator "${id}"; known: ${known}` });
  });
  checkChain(config.mfa?.defaultMFAChain, ['mfa', 'defaultMFAChain']);
  config.connectors.forEach((connector, index) => checkChain(connector.mfaChain, ['connectors', index, 'mfaChain']));
  config.staticClients.forEach((client, index) => {
    checkChain(client.mfaChain, ['staticClients', index, 'mfaChain']);
    client.defaultACRValues?.forEach((value, at) => {
      const problem = acrValueProblem(value, authenticators);
      if (problem) issues.push({ path: ['staticClients', index, 'defaultACRValues', at], message: problem });
    });
  });
  return issues;
}

/** Why an acr value cannot be reached with these authenticators, or undefined if it can. */
export function acrValueProblem(value: string, authenticators: readonly MFAAuthenticator[]): string | undefined {
  if (!isAcrValue(value)) return `unknown acr value "${value}"; idgate issues ${ACR_VALUES.join(', ')}`;
  if (value === ACR_PHISHING_RESISTANT && !authenticators.some((a) => a.type === 'WebAuthn')) {
    return `"${value}" needs a WebAuthn authenticator in mfa.authenticators`;
  }
  if (levelOf(value) >= levelOf(ACR_MFA) && authenticators.length === 0) return `"${value}" needs an authenticator in mfa.authenticators`;
  return undefined;
}

/** WebAuthn's rule: the RP ID is the host of every origin, or a domain it ends with. */
function rpIssues(issuer: string, authenticator: WebAuthnAuthenticator, path: PropertyKey[]): Issue[] {
  if (!URL.canParse(issuer)) return [];
  const { rpID, origins } = relyingParty(issuer, authenticator);
  return origins
    .filter((origin) => {
      const host = new URL(origin).hostname;
      return host !== rpID && !host.endsWith(`.${rpID}`);
    })
    .map((origin) => ({ path: [...path, 'rpID'], message: `"${rpID}" is not ${origin}'s host nor a domain it ends with (WebAuthn would refuse every ceremony)` }));
}

/** The relying party a WebAuthn authenticator acts as: its rpID and origins, or the issuer's. */
export function relyingParty(issuer: string, authenticator: WebAuthnAuthenticator): { rpID: string; origins: string[] } {
  const url = new URL(issuer);
  return { rpID: authenticator.config.rpID ?? url.hostname, origins: authenticator.config.rpOrigins ?? [url.origin] };
}
