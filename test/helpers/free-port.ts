/**
 * A free 127.0.0.1 port for a server the test starts in another process (nginx, Caddy, slapd, an
 * idgate replica), which binds it a moment later. Picked at random below the kernel's ephemeral range
 * (32768-60999 on Linux), where `listen(0)` in parallel test files never lands, so nothing else can
 * take it in between; checked by binding it first.
 */
import net from 'node:net';

const LOW = 20_000;
const HIGH = 32_000;

function tryBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await tryBind(port)) return port;
  }
  throw new Error(`no free port found in ${LOW}-${HIGH}`);
}
