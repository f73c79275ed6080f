// Load generator for bench/filter/grpc.ts, run as a child process (so the server's CPU time is its own): a grpc-js client
// built from the repo's protos. Modes: closed loop (fixed concurrency, count completions) and open loop
// (fixed rate, record each latency). Plain JS so it needs no TypeScript loader inside the worker.
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const { protoDir, address, requests } = await new Promise((resolve) => process.once('message', resolve));
const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
  keepCase: true, longs: Number, enums: Number, defaults: false, oneofs: true, includeDirs: [protoDir],
});
const Authorization = grpc.loadPackageDefinition(definition).envoy.service.auth.v3.Authorization;
const client = new Authorization(address, grpc.credentials.createInsecure());

/** The next request's index, continued across runs: with a token pool larger than the filter's token cache, every token is new to it. */
let i = 0;

function call(request) {
  return new Promise((resolve, reject) => client.Check(request, (error, response) => (error ? reject(error) : resolve(response))));
}

async function closedLoop(concurrency, seconds) {
  let done = 0;
  let errors = 0;
  let denied = 0;
  const end = performance.now() + seconds * 1000;
  async function lane() {
    while (performance.now() < end) {
      try {
        const response = await call(requests[i++ % requests.length]);
        if (response.status?.code) denied++;
        done++;
      } catch {
        errors++;
      }
    }
  }
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, lane));
  const cpu = process.cpuUsage(cpuBefore);
  return { done, errors, denied, seconds: (performance.now() - start) / 1000, clientCpuUs: cpu.user + cpu.system };
}

/** The response to each request, as a plain object (for the replay baseline). */
async function capture() {
  const responses = [];
  for (const request of requests) responses.push(await call(request));
  return { responses };
}

async function openLoop(rate, seconds) {
  const latencies = [];
  let errors = 0;
  const total = Math.floor(rate * seconds);
  const start = performance.now();
  let sent = 0;
  const pending = [];
  while (sent < total) {
    const due = start + (sent * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, Math.floor(wait)));
    const t0 = performance.now();
    pending.push(call(requests[i++ % requests.length]).then(() => latencies.push(performance.now() - t0), () => errors++));
    sent++;
  }
  await Promise.all(pending);
  return { latencies, errors, seconds: (performance.now() - start) / 1000 };
}

process.on('message', async (task) => {
  const result = task.kind === 'closed' ? await closedLoop(task.concurrency, task.seconds)
    : task.kind === 'capture' ? await capture()
      : await openLoop(task.rate, task.seconds);
  process.send(result);
});
process.send({ ready: true });
