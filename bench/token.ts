// Token endpoint throughput (npm run bench:token): the authorization_code and refresh_token grants and
// /keys through the real HTTP endpoint (koa + mountTokenRoutes, memory storage, client in the same
// process), each next to raw jose signing with the same key in the same run, printed as ratios.
// Every grant signs two JWTs (access token + ID token), so half the raw sign rate is its ceiling;
// /keys is compared with the HTTP floor (a 404 through the same stack).
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { availableParallelism } from 'node:os';
import type { SigningAlgorithm } from '../src/keys/generate.js';
import { basic, startTestServer, type TestServer } from '../test/oidc/harness.js';

const CONCURRENCY = 16;
const GRANTS = 600;
const KEYS_REQUESTS = 2000;
const SIGNS = 600;

interface Measure {
  name: string;
  perSecond: number;
}

async function timed(name: string, count: number, run: (index: number) => Promise<void>, concurrency = CONCURRENCY): Promise<Measure> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < count; index = next++) await run(index);
    }),
  );
  return { name, perSecond: count / ((performance.now() - started) / 1000) };
}

async function ok(response: Response): Promise<Record<string, string>> {
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.error}`);
  return body;
}

async function benchAlgorithm(algorithm: SigningAlgorithm): Promise<Measure[]> {
  const server: TestServer = await startTestServer({ yaml: `signer: { config: { algorithm: ${algorithm} } }` });
  try {
    await server.seedClient({ id: 'web', secret: 'web secret' });
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

    const code = await timed(`${algorithm} authorization_code grant`, GRANTS, async (index) => {
      await ok(await redeem(index));
    });

    // One refresh chain per worker (rotation on), each from its own login.
    const chains = await Promise.all(codes.slice(GRANTS).map(async (_, index) => (await ok(await redeem(GRANTS + index))).refresh_token!));
    let worker = 0;
    const refresh = await timed(`${algorithm} refresh_token grant`, GRANTS, async () => {
      const slot = worker++ % CONCURRENCY;
      const body = await ok(await server.post('/token', { grant_type: 'refresh_token', refresh_token: chains[slot]! }, auth));
      chains[slot] = body.refresh_token!;
    });

    const keys = await timed(`${algorithm} GET /keys`, KEYS_REQUESTS, async () => {
      await ok(await fetch(`${server.issuer}/keys`));
    });
    // The same HTTP round trip with no work behind it (a 404 from the router): the transport floor.
    const floor = await timed(`${algorithm} HTTP floor (404)`, KEYS_REQUESTS, async () => {
      const response = await fetch(`${server.issuer}/nothing`);
      await response.arrayBuffer();
    });
    return [rawSign, code, refresh, keys, floor];
  } finally {
    await server.close();
  }
}

function print(results: Measure[]): void {
  const [raw, code, refresh, keys, floor] = results as [Measure, Measure, Measure, Measure, Measure];
  const line = (measure: Measure, note: string) => console.log(`  ${measure.name.padEnd(34)} ${measure.perSecond.toFixed(0).padStart(6)}/s   ${note}`);
  console.log('');
  line(raw, '(one signature, serial)');
  for (const grant of [code, refresh]) line(grant, `${(grant.perSecond / (raw.perSecond / 2)).toFixed(2)} of the 2-signature floor`);
  line(keys, `${(keys.perSecond / floor.perSecond).toFixed(2)} of the HTTP floor; ${(keys.perSecond / raw.perSecond).toFixed(2)} x raw sign`);
  line(floor, 'koa + in-process fetch, no work');
}

console.log(`bench:token — node ${process.version}, ${availableParallelism()} cores, concurrency ${CONCURRENCY}, client in-process`);
for (const algorithm of ['RS256', 'ES256', 'EdDSA'] as const) print(await benchAlgorithm(algorithm));
