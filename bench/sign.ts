// bench:sign — what one token signature costs idgate's issuer, per algorithm: jose's SignJWT (WebCrypto)
// against src/keys/jws.ts (node:crypto, synchronous), same key, same payload, alternating A B A B in one
// process so a noisy machine hits both alike. CPU microseconds per signature from process.cpuUsage();
// the figure to read is the ratio within one run. `npm run bench:sign [-- --rounds N --signs N]`.
import { importJWK, SignJWT, type JWK } from 'jose';
import { generateSigningKey, SIGNING_ALGORITHMS } from '../src/keys/generate.js';
import { compactSigner } from '../src/keys/jws.js';
import { numberFlag } from './flags.js';

const ROUNDS = numberFlag('rounds', 4);
const SIGNS = numberFlag('signs', 400);

const payload = {
  iss: 'https://idgate.example/dex', sub: 'CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs', aud: 'example-app',
  exp: 1_900_000_000, iat: 1_800_000_000, auth_time: 1_800_000_000, jti: 'b3f1c2a9d8e7f6a5b4c3d2e1', client_id: 'example-app',
  scope: 'openid email profile groups offline_access', sid: 'Zk9Qb2xWb0x3c1hNNUZ0bA', email: 'admin@example.com', email_verified: true,
  name: 'admin', groups: ['admins', 'developers'],
};

async function cpuPerCall(count: number, run: () => unknown): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) await run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

console.log(`bench:sign  Node ${process.version}, ${ROUNDS} rounds x ${SIGNS} signatures each, CPU µs per signature (median of rounds)`);
console.log('| algorithm | jose SignJWT | node:crypto (jws.ts) | jose / node:crypto |');
console.log('|---|---:|---:|---:|');
for (const algorithm of SIGNING_ALGORITHMS) {
  const { privateJwk } = await generateSigningKey(algorithm);
  const joseKey = await importJWK(privateJwk as JWK, algorithm);
  const header = { alg: algorithm, kid: privateJwk.kid, typ: 'at+jwt' };
  const signer = compactSigner(privateJwk);
  const jose: number[] = [];
  const node: number[] = [];
  // Warm both paths once before measuring.
  await cpuPerCall(50, () => new SignJWT(payload).setProtectedHeader(header).sign(joseKey));
  await cpuPerCall(50, () => signer.sign(payload, 'at+jwt'));
  for (let round = 0; round < ROUNDS; round++) {
    jose.push(await cpuPerCall(SIGNS, () => new SignJWT(payload).setProtectedHeader(header).sign(joseKey)));
    node.push(await cpuPerCall(SIGNS, () => signer.sign(payload, 'at+jwt')));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const [a, b] = [median(jose), median(node)];
  console.log(`| ${algorithm} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(2)} |`);
}
