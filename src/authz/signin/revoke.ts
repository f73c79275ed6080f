/**
 * How the sign-in ends sessions: a revocation written where every filter replica reads its deny-list
 * (the storage's revocation feed), and added to this replica's list at once.
 */
import type { Revocation } from '../../storage/storage.js';

/** Writes a revocation (idempotently: the same one twice is no error). */
export type RevokeSession = (revocation: Revocation) => Promise<void>;
