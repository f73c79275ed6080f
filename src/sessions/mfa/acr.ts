/**
 * The authentication context classes idgate issues (`acr`, OIDC Core §2) and the RFC 8176 methods
 * (`amr`) they rest on. Three levels, each above the one before: a first factor alone, a second factor
 * at idgate on top of it (TOTP, WebAuthn or a recovery code), and a WebAuthn assertion (OpenID's
 * `phr`, phishing-resistant: the browser binds it to idgate's origin). A login's level, the `acr`
 * of its tokens, follows from the methods it used; a request asking for several values is met by
 * the lowest (acr_values lists the values the client accepts).
 */

/** RFC 8176 values idgate writes in `amr`. */
export const AMR = {
  /** The password form of a PasswordConnector. */
  password: 'pwd',
  /** A TOTP code or a recovery code: a one-time password. */
  oneTimePassword: 'otp',
  /** A WebAuthn assertion: proof of possession of a key an authenticator holds. */
  webauthn: 'hwk',
  /** Added once a second factor was used at idgate on top of the first. */
  multiFactor: 'mfa',
} as const;

export const ACR_SINGLE_FACTOR = 'urn:idgate:acr:single-factor';
export const ACR_MFA = 'urn:idgate:acr:mfa';
export const ACR_PHISHING_RESISTANT = 'phr';

/** Lowest first: the values `acr_values_supported` lists. */
export const ACR_VALUES = [ACR_SINGLE_FACTOR, ACR_MFA, ACR_PHISHING_RESISTANT] as const;

export type AcrValue = (typeof ACR_VALUES)[number];

export function isAcrValue(value: string): value is AcrValue {
  return (ACR_VALUES as readonly string[]).includes(value);
}

/** 0, 1 or 2: the level's place in ACR_VALUES. */
export function levelOf(acr: AcrValue): number {
  return ACR_VALUES.indexOf(acr);
}

/** The level `amr` reaches. */
export function reachedAcr(amr: readonly string[]): AcrValue {
  if (amr.includes(AMR.webauthn)) return ACR_PHISHING_RESISTANT;
  if (amr.includes(AMR.oneTimePassword)) return ACR_MFA;
  return ACR_SINGLE_FACTOR;
}

/**
 * The level a request needs: the lowest of the values it asked for that idgate knows (any of them
 * satisfies the client; acr_values is a list of acceptable values), none when it asked for none known.
 */
export function requiredAcr(acrValues: readonly string[] | undefined): AcrValue | undefined {
  const known = (acrValues ?? []).filter(isAcrValue);
  if (known.length === 0) return undefined;
  return known.reduce((lowest, value) => (levelOf(value) < levelOf(lowest) ? value : lowest));
}

/** True if `amr` reaches `required` (or nothing is required). */
export function meetsAcr(amr: readonly string[], required: AcrValue | undefined): boolean {
  return required === undefined || levelOf(reachedAcr(amr)) >= levelOf(required);
}

/** `amr` with a second factor's `method` added, and `mfa` (once) now that one joined the first factor. */
export function amrWithSecondFactor(amr: readonly string[] | undefined, method: string): string[] {
  const all = [...new Set([...(amr ?? []), method])].filter((entry) => entry !== AMR.multiFactor);
  const secondFactor = all.includes(AMR.oneTimePassword) || all.includes(AMR.webauthn);
  return secondFactor ? [...all, AMR.multiFactor] : all;
}
