/**
 * The filter under bench/soak.ts, in a process of its own so that its memory is the filter's alone:
 * bench:filter's filter (startBenchFilter: 50 rules, audit lines to /dev/null, metrics on) on a gRPC
 * port, answering the parent's `memory` requests with process.memoryUsage(), the size V8 gives the
 * young generation, and the process's CPU time.
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { startBenchFilter } from './setup.js';

interface Start { jwks: string; rules: number }

const { jwks, rules } = await new Promise<Start>((resolve) => process.once('message', (message) => resolve(message as Start)));
const filter = await startBenchFilter(rules, jwks, { grpc: '127.0.0.1:0' });

/** Bytes reserved for the young generation (both semi-spaces): part of RSS however little of it is live. */
function newSpace(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

process.on('message', (message: { kind: string }) => {
  if (message.kind === 'memory') {
    const cpu = process.cpuUsage();
    process.send!({ ...process.memoryUsage(), newSpace: newSpace(), cpuUs: cpu.user + cpu.system });
  } else if (message.kind === 'stop') void filter.close().then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0)); // the bench process is gone
process.send!({ port: filter.grpcPort, heapLimit: getHeapStatistics().heap_size_limit });
