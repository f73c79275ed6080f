/** Milliseconds since the epoch. Every time in storage is one of these. */
export type EpochMs = number;
