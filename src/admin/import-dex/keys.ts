/**
 * Dex's signing keys as idgate verification keys: the public half of Dex's current signing key
 * (kept until the tokens Dex signed with it expire, `dexTokenLifetime` from the import) and Dex's
 * verification keys (kept until their own expiry). idgate publishes them in /keys and never signs
 * with them; Dex's private key is never read.
 */
import { importJWK, type JWK } from 'jose';
import { toPublicJwk } from '../../keys/generate.js';
import type { EpochMs, JsonWebKey, SigningKeys } from '../../storage/storage.js';
import type { DexJwk, DexKeys } from './read.js';

export interface ImportedKey {
  publicKey: JsonWebKey;
  expiresAt: EpochMs;
  /** Which Dex key it was. */
  origin: 'signing key' | 'verification key';
}

export interface KeyPlan {
  keys: ImportedKey[];
  conflicts: Array<{ id: string; reason: string }>;
  notCarried: Array<{ id: string; reason: string }>;
}

/** Every kid the idgate record holds: the signing key, the next key, the verification keys. */
export function kidsOf(record: SigningKeys | undefined): Set<string> {
  if (!record) return new Set();
  return new Set([record.signingKeyPub?.kid, record.nextKey?.kid, ...record.verificationKeys.map((entry) => entry.publicKey.kid)]
    .filter((kid): kid is string => typeof kid === 'string'));
}

/** The public JWK if it is one jose can verify with, else why not. */
async function publicKeyOf(jwk: DexJwk): Promise<JsonWebKey | string> {
  if (typeof jwk.kid !== 'string' || jwk.kid === '') return 'it has no kid';
  if (typeof jwk.alg !== 'string' || typeof jwk.kty !== 'string') return 'it has no alg or kty';
  const publicKey = toPublicJwk(jwk as JsonWebKey);
  try {
    await importJWK(publicKey as JWK, publicKey.alg);
  } catch (error) {
    return `it is not a usable ${publicKey.alg} public key (${(error as Error).message})`;
  }
  return publicKey;
}

export async function planKeys(
  dex: DexKeys | undefined,
  existing: SigningKeys | undefined,
  at: { now: EpochMs; dexTokenLifetime: number },
): Promise<KeyPlan> {
  const plan: KeyPlan = { keys: [], conflicts: [], notCarried: [] };
  if (!dex) return plan;
  const taken = kidsOf(existing);
  const candidates = [
    ...(dex.signingKeyPub ? [{ jwk: dex.signingKeyPub, expiresAt: at.now + at.dexTokenLifetime, origin: 'signing key' as const }] : []),
    ...dex.verificationKeys.map((entry) => ({ jwk: entry.publicKey, expiresAt: entry.expiresAt, origin: 'verification key' as const })),
  ];
  for (const candidate of candidates) {
    const id = typeof candidate.jwk.kid === 'string' ? candidate.jwk.kid : '(no kid)';
    const publicKey = await publicKeyOf(candidate.jwk);
    if (typeof publicKey === 'string') {
      plan.notCarried.push({ id, reason: `Dex's ${candidate.origin}: ${publicKey}` });
    } else if (candidate.expiresAt === undefined || candidate.expiresAt <= at.now) {
      plan.notCarried.push({ id, reason: `Dex's ${candidate.origin} expired${candidate.expiresAt ? ` at ${new Date(candidate.expiresAt).toISOString()}` : ''}; no token it signed is still valid` });
    } else if (taken.has(publicKey.kid) || plan.keys.some((key) => key.publicKey.kid === publicKey.kid)) {
      plan.conflicts.push({ id, reason: 'a key with this kid is already in idgate\'s key set' });
    } else {
      plan.keys.push({ publicKey, expiresAt: candidate.expiresAt, origin: candidate.origin });
    }
  }
  return plan;
}

/** `record` with `keys` added as verification keys; a kid already present is left as it is. */
export function withVerificationKeys(record: SigningKeys, keys: ImportedKey[]): SigningKeys {
  const taken = kidsOf(record);
  const added = keys.filter((key) => !taken.has(key.publicKey.kid)).map((key) => ({ publicKey: key.publicKey, expiresAt: key.expiresAt }));
  return { ...record, verificationKeys: [...record.verificationKeys, ...added] };
}
