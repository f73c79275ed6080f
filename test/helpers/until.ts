/**
 * Waiting for something that happens in the background (a reload, a feed) without asserting how long
 * it takes: poll, and fail with the last value seen once a generous deadline has passed.
 */
import { expect } from 'vitest';

/** Polls until `probe` returns `expected`; fails with the last value after the deadline (no timing asserted). */
export async function until<T>(probe: () => Promise<T>, expected: T, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last = await probe();
  while (last !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    last = await probe();
  }
  expect(last).toBe(expected);
}
