/**
 * Aborted and refused request bodies on the issuer's listener: a client that goes away mid-body is
 * logged at info and counted apart (never a 500), and a refused body (413, 415) closes the connection
 * so a next request on it is never stuck behind the rest of the body.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createLogger } from '../../src/telemetry/logger.js';

const CONFIG = `issuer: http://127.0.0.1:5556/dex
storage: { type: memory }
web: { http: "127.0.0.1:0" }
staticClients:
  - id: app
    secret: app-secret
    redirectURIs: [http://127.0.0.1:5555/callback]
`;

const lines: Array<Record<string, unknown>> = [];
let server: RunningServer;
let port: number;

beforeAll(async () => {
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  server = await startServer(parseConfig(CONFIG, 'test.yaml', {}), {
    logger: createLogger({ level: 'debug', destination }),
    listen: { web: '127.0.0.1:0', telemetry: '127.0.0.1:0' },
  });
  port = Number(new URL(server.urls.web!).port);
});
afterAll(() => server.close());

/** Everything the server sends on `socket` until `done` says the text is complete, or it closes, or 2 s pass. */
function readUntil(socket: net.Socket, done: (text: string) => boolean): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (closed: boolean) => {
      clearTimeout(deadline);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ text, closed });
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (done(text)) finish(false);
    };
    const onClose = () => finish(true);
    const deadline = setTimeout(() => {
      socket.off('data', onData);
      socket.off('close', onClose);
      reject(new Error(`no answer within 2 s; got: ${JSON.stringify(text.slice(0, 200))}`));
    }, 2_000);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

const hasWholeResponse = (text: string) => {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /content-length: (\d+)/i.exec(text.slice(0, end));
  return length !== null && text.length >= end + 4 + Number(length[1]);
};

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`${server.urls.telemetry}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(name)).join('\n');
}

describe('a refused body on a keep-alive connection', () => {
  it('answers 413 for an oversized chunked /token body and closes, so the next request is answered at once', async () => {
    const socket = await connect();
    socket.on('error', () => undefined); // the server may reset while we are still writing
    socket.write('POST /dex/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = 'a'.repeat(16 * 1024);
    for (let i = 0; i < 64; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`); // 1 MiB, no last chunk
    const first = await readUntil(socket, hasWholeResponse);
    expect(first.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(first.text).toMatch(/\r\nconnection: close\r\n/i);

    // The next request on the same socket: either answered, or the socket is closed — before 2 s.
    if (!socket.destroyed) socket.write('GET /dex/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const next = first.closed ? first : await readUntil(socket, hasWholeResponse);
    expect(next.closed || /^HTTP\/1\.1 200 /.test(next.text)).toBe(true);
    socket.destroy();
  });

  it('answers 415 for a body of the wrong type and closes the connection', async () => {
    const socket = await connect();
    socket.on('error', () => undefined);
    socket.write('POST /dex/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
    const first = await readUntil(socket, hasWholeResponse);
    expect(first.text).toMatch(/^HTTP\/1\.1 415 /);
    expect(first.text).toMatch(/\r\nconnection: close\r\n/i);
    const after = first.closed ? first : await readUntil(socket, () => false);
    expect(after.closed).toBe(true);
  });
});

describe('a client that goes away mid-body', () => {
  it('is logged at info, counted in idgate_http_client_aborts_total and never counted or logged as a 500', async () => {
    const socket = await connect();
    socket.write('POST /dex/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=');
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    for (let i = 0; i < 40 && !lines.some((line) => line.msg === 'client closed the connection mid-body'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const abort = lines.find((line) => line.msg === 'client closed the connection mid-body');
    expect(abort).toMatchObject({ level: 'info', method: 'POST', path: '/dex/token' });
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    expect(await metric('idgate_http_client_aborts_total')).toMatch(/idgate_http_client_aborts_total\{route="[^"]*token",method="POST"\} 1/);
    expect(await metric('idgate_http_requests_total')).not.toMatch(/status="500"/);
  });
});
