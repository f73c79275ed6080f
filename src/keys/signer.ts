/**
 * The storage-backed signer: signs with the current key of the single `SigningKeys` record, serves the
 * published key set, and rotates on schedule. Replicas share the record; a rotation is a
 * compare-and-swap, so of two replicas that find it due exactly one rotates and the other adopts the
 * winner's keys. The imported private key is cached in memory and re-imported only when the kid changes;
 * signing is node:crypto's (see jws.ts).
 */
import type { JWK, JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { AlreadyExistsError, type Storage, type SigningKeys } from '../storage/storage.js';
import { generateSigningKey, toPublicJwk, type SigningAlgorithm } from './generate.js';
import { compactSigner, type CompactSigner } from './jws.js';
import type { PublicJwks, Signer } from './keyset.js';
import {
  STATE_REFRESH_MS, initialKeys, isRotationDue, jwksMaxAgeMs, publishedKeys, replaceNextKey, rotateKeys,
  type RotationPolicy,
} from './rotation.js';

export interface SignerOptions {
  algorithm: SigningAlgorithm;
  /** ms between rotations (keysRotationPeriod, 6h by default). */
  rotationPeriod: number;
  /** ms: the longest lifetime of a token signed (max of expiry.idTokens and expiry.accessTokens). */
  tokenLifetime: number;
  now: () => number;
  logger: Logger;
}

export type RotatingSigner = Signer & {
  /** Re-reads the key record and rotates it if due; true if this call performed the rotation. */
  rotateIfDue(): Promise<boolean>;
  /** Checks for a due rotation every `checkIntervalMs` (30 s by default, as Dex). */
  start(checkIntervalMs?: number): void;
  stop(): void;
};

interface LoadedState {
  keys: SigningKeys;
  /** Re-read the record once the clock reaches this (the rotation, or the refresh interval). */
  staleAt: number;
  kid: string;
  alg: string;
  signer: CompactSigner;
}

/** Thrown inside a CAS updater when another replica already did the work. */
class AlreadyDone extends Error {}

export async function createSigner(storage: Storage, options: SignerOptions): Promise<RotatingSigner> {
  const { algorithm, now, logger } = options;
  const policy: RotationPolicy = { rotationPeriod: options.rotationPeriod, tokenLifetime: options.tokenLifetime };
  const listeners = new Set<() => void>();
  let state: LoadedState | undefined;
  let loading: Promise<{ state: LoadedState; rotated: boolean }> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function readOrCreate(): Promise<SigningKeys> {
    const existing = await storage.keys.get('signing');
    if (existing) return existing;
    const [current, next] = await Promise.all([generateSigningKey(algorithm), generateSigningKey(algorithm)]);
    const created = initialKeys(now(), current, next, policy);
    try {
      await storage.keys.create(created);
      logger.info({ kid: created.signingKeyPub?.kid, nextKid: created.nextKey?.kid, algorithm }, 'created signing keys');
      return created;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      const winner = await storage.keys.get('signing');
      if (!winner) throw error;
      return winner;
    }
  }

  /** Applies `change` by CAS if `stillNeeded` holds on the stored record; otherwise adopts what is stored. */
  async function casChange(
    stillNeeded: (keys: SigningKeys) => boolean,
    change: (keys: SigningKeys) => SigningKeys,
  ): Promise<{ keys: SigningKeys; changed: boolean }> {
    try {
      const keys = await storage.keys.update('signing', (current) => {
        if (!stillNeeded(current)) throw new AlreadyDone();
        return change(current);
      });
      return { keys, changed: true };
    } catch (error) {
      if (!(error instanceof AlreadyDone)) throw error;
      const keys = await storage.keys.get('signing');
      if (!keys) throw new Error('signing keys disappeared from storage');
      return { keys, changed: false };
    }
  }

  async function rotateIfNeeded(keys: SigningKeys): Promise<{ keys: SigningKeys; rotated: boolean }> {
    if (isRotationDue(keys, now())) {
      const generated = await generateSigningKey(algorithm);
      const at = now();
      const result = await casChange((current) => isRotationDue(current, at), (current) => rotateKeys(current, at, generated, policy));
      if (result.changed) {
        logger.info({ kid: result.keys.signingKeyPub?.kid, nextKid: result.keys.nextKey?.kid, algorithm }, 'rotated signing keys');
      }
      return { keys: result.keys, rotated: result.changed };
    }
    if (keys.nextKey && keys.nextKey.alg !== algorithm) {
      // An algorithm change: the key that will sign next must be of the configured algorithm.
      const generated = await generateSigningKey(algorithm);
      const at = now();
      const result = await casChange(
        (current) => current.nextKey?.alg !== algorithm,
        (current) => replaceNextKey(current, at, generated, policy),
      );
      if (result.changed) logger.info({ nextKid: result.keys.nextKey?.kid, algorithm }, 'replaced next signing key (algorithm change)');
      return { keys: result.keys, rotated: false };
    }
    return { keys, rotated: false };
  }

  async function toState(keys: SigningKeys): Promise<LoadedState> {
    const signingKey = keys.signingKey;
    if (!signingKey) throw new Error('signing keys record has no signing key');
    const readAt = now();
    const staleAt = Math.min(keys.nextRotation, readAt + STATE_REFRESH_MS);
    if (state && state.kid === signingKey.kid) return { ...state, keys, staleAt };
    return { keys, staleAt, kid: signingKey.kid, alg: signingKey.alg, signer: compactSigner(signingKey) };
  }

  function publishedKids(keys: SigningKeys | undefined): string {
    return keys ? publishedKeys(keys, now()).map((key) => key.kid).sort().join(',') : '';
  }

  async function load(): Promise<{ state: LoadedState; rotated: boolean }> {
    const before = publishedKids(state?.keys);
    const { keys, rotated } = await rotateIfNeeded(await readOrCreate());
    state = await toState(keys);
    if (publishedKids(keys) !== before) for (const listener of listeners) listener();
    return { state, rotated };
  }

  /** One load at a time: concurrent callers share it. */
  function reload(): Promise<{ state: LoadedState; rotated: boolean }> {
    loading ??= load().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  async function current(): Promise<LoadedState> {
    if (state && now() < state.staleAt) return state;
    return (await reload()).state;
  }

  const signer: RotatingSigner = {
    async algorithm() {
      return (await current()).alg;
    },

    async sign(payload: JWTPayload, signOptions?: { typ?: string }) {
      return (await current()).signer.sign(payload, signOptions?.typ);
    },

    async jwks(): Promise<PublicJwks> {
      const { keys } = await current();
      return { keys: publishedKeys(keys, now()).map((key) => toPublicJwk(key) as JWK) };
    },

    async jwksMaxAgeSeconds() {
      return Math.floor(jwksMaxAgeMs(policy.rotationPeriod) / 1000);
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async rotateIfDue() {
      if (loading) await loading.catch(() => undefined);
      return (await reload()).rotated;
    },

    start(checkIntervalMs = 30_000) {
      if (timer) return;
      timer = setInterval(() => {
        signer.rotateIfDue().catch((error: unknown) => logger.error({ err: error }, 'signing key rotation check failed'));
      }, checkIntervalMs);
      timer.unref();
    },

    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };

  await reload();
  return signer;
}
