// Load generator for bench/filter/http.ts, run as a child process: keep-alive node:http client,
// closed loop (fixed concurrency, count completions). Plain JS so it needs no TypeScript loader.
import http from 'node:http';

const { port, requests } = await new Promise((resolve) => process.once('message', resolve));
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function call(request) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent, method: request.method, path: request.path, headers: request.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

async function closedLoop(concurrency, seconds) {
  let done = 0;
  let errors = 0;
  let denied = 0;
  const statuses = {};
  const end = performance.now() + seconds * 1000;
  let i = 0;
  async function lane() {
    while (performance.now() < end) {
      try {
        const status = await call(requests[i++ % requests.length]);
        if (status !== 200) denied++;
        statuses[status] = (statuses[status] ?? 0) + 1;
        done++;
      } catch {
        errors++;
      }
    }
  }
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { done, errors, denied, statuses, seconds: (performance.now() - start) / 1000 };
}

process.on('message', async (task) => process.send(await closedLoop(task.concurrency, task.seconds)));
process.send({ ready: true });
