// Token endpoint throughput (npm run bench:token): the authorization_code, refresh_token,
// client_credentials and token exchange grants and /keys through the real HTTP endpoint (koa +
// mountTokenRoutes, memory storage, client in the same process), each next to raw jose signing (and
// verifying) with the same key in the same run, printed as ratios. A login grant signs two JWTs (access
// token + ID token), so half the raw sign rate is its ceiling; client_credentials signs one; a token
// exchange verifies one and signs one; /keys is compared with the HTTP floor (a 404 through the same stack).
import { importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { availableParallelism } from 'node:os';
import type { SigningAlgorithm } from '../src/keys/generate.js';
import { basic, startTestServer, type TestServer } from '../test/oidc/harness.js';

const CONCURRENCY = 16;
/** Requests per grant measure; BENCH_GRANTS shortens a run. */
const GRANTS = Number(process.env.BENCH_GRANTS ?? 600);
const KEYS_REQUESTS = 2000;
const SIGNS = 600;

interface Measure {
  name: string;
  perSecond: number;
}

interface Results {
  rawSign: Measure;
  rawVerify: Measure;
  code: Measure;
  refresh: Measure;
  clientCredentials: Measure;
  exchange: Measure;
  keys: Measure;
  floor: Measure;
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Runs `count` requests from `concurrency` workers; `run` gets the request's index and its worker's. */
async function timed(name: string, count: number, run: (index: number, worker: number) => Promise<void>, concurrency = CONCURRENCY): Promise<Measure> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let index = next++; index < count; index = next++) await run(index, worker);
    }),
  );
  return { name, perSecond: count / ((performance.now() - started) / 1000) };
}

async function ok(response: Response): Promise<Record<string, string>> {
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.error}`);
  return body;
}

async function benchAlgorithm(algorithm: SigningAlgorithm): Promise<Results> {
  const server: TestServer = await startTestServer({ yaml: `signer: { config: { algorithm: ${algorithm} } }` });
  try {
    await server.seedClient({ id: 'web', secret: 'web secret', grantTypes: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE] });
    await server.seedClient({ id: 'orders', secret: 'orders secret', trustedPeers: ['web'] });
    await server.seedClient({ id: 'svc', secret: 'svc secret', grantTypes: ['client_credentials'], scopes: ['orders:read'] });
    const auth = { authorization: basic('web', 'web secret') };
    const codes = await Promise.all(Array.from({ length: GRANTS + CONCURRENCY }, () => server.seedCode()));
    const redeem = (index: number) => {
      const seeded = codes[index]!;
      return server.post('/token', {
        grant_type: 'authorization_code', code: seeded.code, redirect_uri: 'https://rp.example/callback', code_verifier: seeded.verifier,
      }, auth);
    };

    // The signing key the endpoint uses, for the raw jose baseline.
    const stored = await server.ctx.storage.keys.get('signing');
    const key = (await importJWK(stored!.signingKey as JWK, algorithm)) as CryptoKey;
    const payload = { iss: server.issuer, sub: 'CgdzdWJqZWN0EgRtb2Nr', aud: 'web', exp: 2e9, iat: 1.9e9, scope: 'openid email profile groups offline_access' };
    const rawSign = await timed(`${algorithm} raw jose sign`, SIGNS, async () => {
      await new SignJWT(payload).setProtectedHeader({ alg: algorithm, kid: stored!.signingKey!.kid, typ: 'at+jwt' }).sign(key);
    }, 1);
    const publicKey = await importJWK(stored!.signingKeyPub as JWK, algorithm);
    const signed = await new SignJWT(payload).setProtectedHeader({ alg: algorithm, typ: 'at+jwt' }).sign(key);
    const rawVerify = await timed(`${algorithm} raw jose verify`, SIGNS, async () => {
      await jwtVerify(signed, publicKey, { currentDate: new Date(1.95e12) });
    }, 1);

    const code = await timed(`${algorithm} authorization_code grant`, GRANTS, async (index) => {
      await ok(await redeem(index));
    });

    // One refresh chain per worker (rotation on), each from its own login; a worker only ever
    // presents its own chain's current token, so no two requests race on one family.
    const chains = await Promise.all(codes.slice(GRANTS).map(async (_, index) => (await ok(await redeem(GRANTS + index))).refresh_token!));
    const refresh = await timed(`${algorithm} refresh_token grant`, GRANTS, async (_index, worker) => {
      const body = await ok(await server.post('/token', { grant_type: 'refresh_token', refresh_token: chains[worker]! }, auth));
      chains[worker] = body.refresh_token!;
    });

    const clientCredentials = await timed(`${algorithm} client_credentials grant`, GRANTS, async () => {
      await ok(await server.post('/token', { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic('svc', 'svc secret') }));
    });

    // One user access token, exchanged for the `orders` audience again and again (each exchange
    // verifies it, checks its revocations in storage and signs a new token).
    const subject = (await ok(await server.post('/token', { grant_type: 'refresh_token', refresh_token: chains[0]! }, auth)));
    chains[0] = subject.refresh_token!;
    const exchange = await timed(`${algorithm} token exchange`, GRANTS, async () => {
      await ok(await server.post('/token', {
        grant_type: TOKEN_EXCHANGE, subject_token: subject.access_token!, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: 'orders',
      }, auth));
    });

    const keys = await timed(`${algorithm} GET /keys`, KEYS_REQUESTS, async () => {
      await ok(await fetch(`${server.issuer}/keys`));
    });
    // The same HTTP round trip with no work behind it (a 404 from the router): the transport floor.
    const floor = await timed(`${algorithm} HTTP floor (404)`, KEYS_REQUESTS, async () => {
      const response = await fetch(`${server.issuer}/nothing`);
      await response.arrayBuffer();
    });
    return { rawSign, rawVerify, code, refresh, clientCredentials, exchange, keys, floor };
  } finally {
    await server.close();
  }
}

function print(results: Results): void {
  const { rawSign: raw, rawVerify, code, refresh, clientCredentials, exchange, keys, floor } = results;
  const line = (measure: Measure, note: string) => console.log(`  ${measure.name.padEnd(34)} ${measure.perSecond.toFixed(0).padStart(6)}/s   ${note}`);
  // The rate the cryptography alone would allow a grant: one over the sum of its operations' costs.
  const ceiling = (signs: number, verifies: number) => 1 / (signs / raw.perSecond + verifies / rawVerify.perSecond);
  console.log('');
  line(raw, '(one signature, serial)');
  line(rawVerify, '(one verification, serial)');
  for (const grant of [code, refresh]) line(grant, `${(grant.perSecond / ceiling(2, 0)).toFixed(2)} of the 2-signature ceiling`);
  line(clientCredentials, `${(clientCredentials.perSecond / ceiling(1, 0)).toFixed(2)} of the 1-signature ceiling; ${(clientCredentials.perSecond / refresh.perSecond).toFixed(2)} x refresh_token`);
  line(exchange, `${(exchange.perSecond / ceiling(1, 1)).toFixed(2)} of the sign+verify ceiling; ${(exchange.perSecond / refresh.perSecond).toFixed(2)} x refresh_token`);
  line(keys, `${(keys.perSecond / floor.perSecond).toFixed(2)} of the HTTP floor; ${(keys.perSecond / raw.perSecond).toFixed(2)} x raw sign`);
  line(floor, 'koa + in-process fetch, no work');
}

console.log(`bench:token — node ${process.version}, ${availableParallelism()} cores, concurrency ${CONCURRENCY}, client in-process`);
for (const algorithm of ['RS256', 'ES256', 'EdDSA'] as const) print(await benchAlgorithm(algorithm));
