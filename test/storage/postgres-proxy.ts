/**
 * Proxies in front of the test PostgreSQL. One a test can take down and bring back on the same port:
 * to the backend under test this is exactly a database restart (connections reset, then ECONNREFUSED,
 * then service again). One that speaks PostgreSQL's TLS (SSLRequest, then a handshake with a given
 * certificate), so the ssl modes are tested against a real handshake while the server runs without TLS.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface PostgresOutage {
  port: number;
  /** Resets every open connection and refuses new ones. */
  down(): Promise<void>;
  /** Accepts connections again on the same port. */
  up(): Promise<void>;
  /** Silently stops forwarding on the connections open now (a partition: no reset, no answer); new ones work. */
  freeze(): void;
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
    freeze: () => {
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    close: stop,
  };
}

export interface TlsProxyOptions {
  target: { host: string; port: number };
  key: string;
  cert: string;
  /** When set, clients must present a certificate signed by this CA. */
  clientCa?: string;
}

/** PostgreSQL's SSLRequest code (protocol 1234.5679). */
const SSL_REQUEST = 80877103;

/** Accepts only TLS: answers SSLRequest with 'S', terminates TLS, and forwards plaintext to the target. */
export async function startTlsPostgresProxy(options: TlsProxyOptions): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (first) => {
      if (first.length !== 8 || first.readUInt32BE(4) !== SSL_REQUEST) return socket.destroy();
      socket.write('S');
      const secure = new tls.TLSSocket(socket, {
        isServer: true, key: options.key, cert: options.cert,
        ...(options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
      });
      const upstream = net.connect(options.target.port, options.target.host);
      sockets.add(upstream);
      upstream.on('error', () => undefined);
      secure.on('error', () => socket.destroy());
      secure.pipe(upstream).pipe(secure);
      secure.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    });
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
