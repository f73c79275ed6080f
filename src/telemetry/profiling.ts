/**
 * On-demand CPU and heap profiles for the telemetry/admin listener (telemetry.enableProfiling, off by
 * default): a CPU profile over a bounded number of seconds, in Chrome DevTools' .cpuprofile format, and
 * a V8 heap snapshot (.heapsnapshot). One profile at a time: taking one costs the process real work.
 */
import { Session } from 'node:inspector/promises';
import type { Readable } from 'node:stream';
import { getHeapSnapshot } from 'node:v8';

export const DEFAULT_CPU_PROFILE_SECONDS = 10;
export const MAX_CPU_PROFILE_SECONDS = 60;

export class ProfilerBusyError extends Error {
  constructor() {
    super('a profile is already being taken; try again when it is done');
    this.name = 'ProfilerBusyError';
  }
}

export interface Profiler {
  /** The CPU profile of the next `seconds` (1..MAX_CPU_PROFILE_SECONDS), as .cpuprofile JSON. */
  cpu(seconds: number): Promise<string>;
  /** A heap snapshot, streamed; the process pauses while V8 writes it. */
  heap(): Readable;
}

export function createProfiler(): Profiler {
  let busy = false;
  const claim = () => {
    if (busy) throw new ProfilerBusyError();
    busy = true;
  };
  return {
    async cpu(seconds) {
      claim();
      const session = new Session();
      try {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        const { profile } = await session.post('Profiler.stop');
        return JSON.stringify(profile);
      } finally {
        session.disconnect();
        busy = false;
      }
    },
    heap() {
      claim();
      const stream = getHeapSnapshot();
      const release = () => {
        busy = false;
      };
      stream.once('close', release);
      stream.once('error', release);
      return stream;
    },
  };
}

/** `seconds` from the query: a whole number within bounds, or undefined when it is not one. */
export function profileSeconds(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return DEFAULT_CPU_PROFILE_SECONDS;
  if (!/^\d+$/.test(text)) return undefined;
  const seconds = Number(text);
  return seconds >= 1 && seconds <= MAX_CPU_PROFILE_SECONDS ? seconds : undefined;
}
