/**
 * The HTTP floor for bench:token-peer, in its own process: node:http reading a form POST and answering
 * with a JSON body the size of a token response, no other work. Its CPU per request is what the
 * transport alone costs a token server on this machine (parsing, the socket write, the kernel's share).
 * Sends `{ url }` to its parent over IPC once it listens.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = JSON.stringify({ access_token: 'a'.repeat(800), token_type: 'Bearer', expires_in: 86400, refresh_token: 'r'.repeat(80), id_token: 'i'.repeat(800) });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token` }));
process.on('disconnect', () => server.close(() => process.exit(0)));
