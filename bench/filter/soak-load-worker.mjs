// Load generator for bench/soak.ts, run as a child process: a grpc-js client built from the repo's protos
// sending Check at a fixed open-loop rate, with a repeating mix of token classes (see CLASSES). Each
// response is checked against its class's expected gRPC status code; the parent reads the counters
// with `stats` and ends the run with `stop`. Plain JS so it needs no TypeScript loader inside the worker.
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const OK = 0;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;
const DEADLINE_MS = 10_000;
const TICK_MS = 2;

const { protoDir, address, privateKeyPem, kid, issuer, rate, users, template, allowedPaths, deniedPath } =
  await new Promise((resolve) => process.once('message', resolve));
const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
  keepCase: true, longs: Number, enums: Number, defaults: false, oneofs: true, includeDirs: [protoDir],
});
const Authorization = grpc.loadPackageDefinition(definition).envoy.service.auth.v3.Authorization;
const client = new Authorization(address, grpc.credentials.createInsecure());

const privateKey = createPrivateKey(privateKeyPem);
const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid })).toString('base64url');
let serial = 0;

/** An RS256 JWT with bench:filter's claims; `expiresIn` seconds from now (negative: already expired). */
function signToken(sub, expiresIn = 7200) {
  const iat = Math.floor(Date.now() / 1000);
  const payload = { iss: issuer, sub, aud: 'shop', groups: ['staff', 'users'], scope: 'read write', iat, exp: iat + expiresIn, jti: `soak-${process.pid}-${serial++}` };
  const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

const pool = Array.from({ length: users }, (_, i) => signToken(`user-${i}`));
const expired = Array.from({ length: 50 }, (_, i) => signToken(`expired-${i}`, -3600));
const pick = (list, i) => list[i % list.length];

/** A valid pool token's header and payload under a random signature: a new bad signature every time. */
function badSignature(i) {
  const token = pick(pool, i);
  return `${token.slice(0, token.lastIndexOf('.'))}.${randomBytes(256).toString('base64url')}`;
}

/** Not a JWT at all: random base64url text, sometimes split in three like one. */
function garbage(i) {
  const text = randomBytes(30 + (i % 300)).toString('base64url');
  return i % 2 === 0 ? text : `${text.slice(0, 20)}.${text.slice(20, 40)}.${text.slice(40)}`;
}

/** The mix, one request per slot in turn (20 slots: 5 % each). */
const CLASSES = [
  ...Array(13).fill({ name: 'pool', expect: OK, token: (i) => pick(pool, i), path: (i) => pick(allowedPaths, i) }),
  ...Array(2).fill({ name: 'new', expect: OK, token: (i) => signToken(`new-${i}`), path: (i) => pick(allowedPaths, i) }),
  ...Array(2).fill({ name: 'policy-denied', expect: PERMISSION_DENIED, token: (i) => pick(pool, i), path: () => deniedPath }),
  { name: 'bad-signature', expect: UNAUTHENTICATED, token: badSignature, path: (i) => pick(allowedPaths, i) },
  { name: 'expired', expect: UNAUTHENTICATED, token: (i) => pick(expired, i), path: (i) => pick(allowedPaths, i) },
  { name: 'garbage', expect: UNAUTHENTICATED, token: garbage, path: (i) => pick(allowedPaths, i) },
];

function checkRequest(token, path) {
  const http = template.attributes.request.http;
  return {
    attributes: {
      ...template.attributes,
      request: { http: { ...http, path, headers: { ...http.headers, ':path': path, authorization: `Bearer ${token}` } } },
    },
  };
}

const interval = { sent: 0, answered: 0, grpcErrors: 0, unexpected: 0 };
const total = { sent: 0, answered: 0, grpcErrors: 0, unexpected: 0 };
/** The first few unexpected answers, to say what went wrong. */
const examples = [];
let inFlight = 0;

function count(field) {
  interval[field]++;
  total[field]++;
}

/** Requests sent per class: a class picks its n-th token and path, so it goes through its whole pool. */
const sentByClass = new Map();

function send(i) {
  const kind = CLASSES[i % CLASSES.length];
  const n = (sentByClass.get(kind) ?? 0) + 1;
  sentByClass.set(kind, n);
  const request = checkRequest(kind.token(n), kind.path(n));
  count('sent');
  inFlight++;
  client.Check(request, { deadline: Date.now() + DEADLINE_MS }, (error, response) => {
    inFlight--;
    if (error) {
      count('grpcErrors');
      if (examples.length < 5) examples.push(`${kind.name}: gRPC error ${error.code} ${error.details}`);
      return;
    }
    count('answered');
    const code = response.status?.code ?? OK;
    if (code !== kind.expect) {
      count('unexpected');
      if (examples.length < 5) examples.push(`${kind.name}: status ${code}, expected ${kind.expect}`);
    }
  });
}

let timer;
function start() {
  const startedAt = performance.now();
  let next = 0;
  timer = setInterval(() => {
    const due = Math.floor(((performance.now() - startedAt) * rate) / 1000);
    while (next < due) send(next++);
  }, TICK_MS);
}

async function stop() {
  clearInterval(timer);
  const until = Date.now() + DEADLINE_MS + 1000;
  while (inFlight > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  client.close();
}

function report() {
  const out = { interval: { ...interval }, total: { ...total }, inFlight, examples: [...examples] };
  for (const field of Object.keys(interval)) interval[field] = 0;
  return out;
}

process.on('message', async (task) => {
  if (task.kind === 'start') start();
  else if (task.kind === 'stats') process.send(report());
  else if (task.kind === 'stop') {
    await stop();
    process.send(report());
  }
});
process.on('disconnect', () => process.exit(0)); // the bench process is gone
process.send({ ready: true, classes: [...new Set(CLASSES.map((c) => c.name))] });
