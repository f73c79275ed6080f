/**
 * WebAuthn ceremonies over @simplewebauthn/server: the options a login page hands the browser, and
 * the verification of what the browser sends back — the challenge the login was given, the issuer's
 * origin, the RP ID, user presence, user verification when the authenticator requires it, and the
 * signature. The signature counter is checked by the caller in storage (credentials.ts), atomically;
 * here the library is given 0 so that the one rule lives in one place.
 */
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { EpochMs, WebAuthnCredentialRecord } from '../../storage/storage.js';
import { relyingParty, type WebAuthnAuthenticator } from './config.js';
import { MFAError } from './errors.js';

/** Who the ceremony is for and where it runs. */
export interface Ceremony {
  authenticator: WebAuthnAuthenticator;
  issuer: string;
  /** The name the browser's dialog shows for the relying party. */
  displayName: string;
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/).max(16_384);
const responseShape = z.object({
  id: base64url.min(1),
  rawId: base64url.min(1),
  type: z.literal('public-key'),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
});
const registrationShape = responseShape.extend({
  response: z.object({ clientDataJSON: base64url, attestationObject: base64url, transports: z.array(z.string().max(32)).max(10).optional() }),
});
const assertionShape = responseShape.extend({
  response: z.object({ clientDataJSON: base64url, authenticatorData: base64url, signature: base64url, userHandle: base64url.optional() }),
});

function parseResponse<T>(shape: z.ZodType<T>, posted: string): T {
  let json: unknown;
  try {
    json = JSON.parse(posted);
  } catch {
    throw new MFAError('invalid_assertion', 'the browser sent no readable WebAuthn response');
  }
  const parsed = shape.safeParse(json);
  if (!parsed.success) throw new MFAError('invalid_assertion', 'the browser sent a malformed WebAuthn response');
  return parsed.data;
}

/** The challenge the browser signed over (clientDataJSON.challenge), to tell another login's answer apart. */
function signedChallenge(clientDataJSON: string): string | undefined {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof data.challenge === 'string' ? data.challenge : undefined;
  } catch {
    return undefined;
  }
}

function checkChallenge(clientDataJSON: string, expected: string): void {
  if (signedChallenge(clientDataJSON) !== expected) {
    throw new MFAError('challenge_mismatch', 'the passkey answered a challenge this sign-in did not issue');
  }
}

function verifyOptions(ceremony: Ceremony, expectedChallenge: string) {
  const { rpID, origins } = relyingParty(ceremony.issuer, ceremony.authenticator);
  return {
    expectedChallenge,
    expectedOrigin: origins,
    expectedRPID: rpID,
    requireUserVerification: ceremony.authenticator.config.userVerification === 'required',
  };
}

function asInvalid(error: unknown): MFAError {
  return error instanceof MFAError ? error : new MFAError('invalid_assertion', `the passkey's answer does not verify: ${(error as Error).message}`, { cause: error });
}

/** Options for navigator.credentials.create(): a new credential for this person, none of theirs again. */
export async function registrationOptions(
  ceremony: Ceremony,
  user: { name: string; displayName: string; handle: string },
  existing: readonly WebAuthnCredentialRecord[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { config } = ceremony.authenticator;
  return generateRegistrationOptions({
    rpName: ceremony.displayName,
    rpID: relyingParty(ceremony.issuer, ceremony.authenticator).rpID,
    userName: user.name,
    userDisplayName: user.displayName,
    userID: Buffer.from(user.handle, 'base64url'),
    timeout: config.timeout,
    attestationType: 'none',
    excludeCredentials: existing.map((credential) => ({ id: credential.credentialId, ...(credential.transports ? { transports: credential.transports } : {}) })),
    authenticatorSelection: {
      residentKey: 'preferred',
      userVerification: config.userVerification,
      ...(config.authenticatorAttachment ? { authenticatorAttachment: config.authenticatorAttachment } : {}),
    },
  });
}

/** Verifies a registration answering `expectedChallenge`; returns the credential to store. */
export async function verifyRegistration(ceremony: Ceremony, posted: string, expectedChallenge: string, now: EpochMs): Promise<WebAuthnCredentialRecord> {
  const response = parseResponse(registrationShape, posted) as RegistrationResponseJSON;
  checkChallenge(response.response.clientDataJSON, expectedChallenge);
  const result = await verifyRegistrationResponse({ response, ...verifyOptions(ceremony, expectedChallenge) }).catch((error: unknown) => {
    throw asInvalid(error);
  });
  if (!result.verified) throw new MFAError('invalid_assertion', 'the passkey registration does not verify');
  const { credential } = result.registrationInfo;
  return {
    authenticatorId: ceremony.authenticator.id,
    credentialId: credential.id,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    counter: credential.counter,
    ...(response.response.transports ? { transports: response.response.transports } : {}),
    createdAt: now,
  };
}

/** Options for navigator.credentials.get(): one of this person's credentials. */
export async function assertionOptions(ceremony: Ceremony, credentials: readonly WebAuthnCredentialRecord[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { config } = ceremony.authenticator;
  return generateAuthenticationOptions({
    rpID: relyingParty(ceremony.issuer, ceremony.authenticator).rpID,
    allowCredentials: credentials.map((credential) => ({ id: credential.credentialId, ...(credential.transports ? { transports: credential.transports } : {}) })),
    timeout: config.timeout,
    userVerification: config.userVerification,
  });
}

/** Verifies an assertion answering `expectedChallenge` by one of `credentials`; returns which, and its counter. */
export async function verifyAssertion(
  ceremony: Ceremony,
  posted: string,
  expectedChallenge: string,
  credentials: readonly WebAuthnCredentialRecord[],
): Promise<{ credentialId: string; counter: number }> {
  const response = parseResponse(assertionShape, posted) as AuthenticationResponseJSON;
  checkChallenge(response.response.clientDataJSON, expectedChallenge);
  const stored = credentials.find((credential) => credential.credentialId === response.id);
  if (!stored) throw new MFAError('unknown_credential', 'this passkey is not registered for this account');
  const result = await verifyAuthenticationResponse({
    response,
    ...verifyOptions(ceremony, expectedChallenge),
    // 0: the counter rule is applied in storage (useWebAuthnCounter), atomically.
    credential: { id: stored.credentialId, publicKey: Buffer.from(stored.publicKey, 'base64url'), counter: 0, ...(stored.transports ? { transports: stored.transports } : {}) },
  }).catch((error: unknown) => {
    throw asInvalid(error);
  });
  if (!result.verified) throw new MFAError('invalid_assertion', "the passkey's signature does not verify");
  return { credentialId: stored.credentialId, counter: result.authenticationInfo.newCounter };
}
