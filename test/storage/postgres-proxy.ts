/**
 * A TCP proxy in front of the test PostgreSQL that a test can take down and bring back on the same
 * port: to the backend under test this is exactly a database restart (connections reset, then
 * ECONNREFUSED, then service again), without touching the real server.
 */
import net from 'node:net';

export interface PostgresOutage {
  port: number;
  /** Resets every open connection and refuses new ones. */
  down(): Promise<void>;
  /** Accepts connections again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startPostgresProxy(target: { host: string; port: number }): Promise<PostgresOutage> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.resetAndDestroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  const port = await listen(0);
  return {
    port,
    down: stop,
    up: async () => {
      await listen(port);
    },
    close: stop,
  };
}
