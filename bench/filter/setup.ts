/**
 * Shared bench fixtures: an issuer key and tokens, a policy set of N rules in the shape real users
 * write (per-service paths, methods, a group claim, a DENY for an admin area), and a running filter
 * with audit lines on (written to /dev/null) and metrics, as in production.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { Registry } from 'prom-client';
import { parseFilterConfig, type FilterConfigInput } from '../../src/authz/config.js';
import { startFilter, type RunningFilter } from '../../src/authz/index.js';
import { openAuditSink, type AuditSink } from '../../src/authz/audit.js';
import { silentLogger } from '../../src/telemetry/logger.js';

export const ISSUER = 'https://issuer.bench';

export async function benchKeys(alg: 'RS256' | 'ES256' = 'RS256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: `${alg}-1`, use: 'sig' };
  const sign = (sub: string, extra: Record<string, unknown> = {}) =>
    new SignJWT({ iss: ISSUER, sub, aud: 'shop', groups: ['staff', 'users'], scope: 'read write', ...extra })
      .setProtectedHeader({ alg, kid: jwk.kid })
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(privateKey);
  return { jwks: JSON.stringify({ keys: [jwk] }), sign, publicKey };
}

/** An AuthorizationPolicy file with `ruleCount` ALLOW rules and one DENY, plus the RequestAuthentication. */
export function policyYaml(ruleCount: number, jwks: string): string {
  const rules: string[] = [];
  for (let i = 0; i < ruleCount; i++) {
    const kind = i % 4;
    if (kind === 0) rules.push(`  - to: [{ operation: { methods: [GET, HEAD], paths: ["/svc${i}/items/{*}", "/svc${i}/catalog/*"] } }]`);
    else if (kind === 1) rules.push(`  - from: [{ source: { requestPrincipals: ["${ISSUER}/*"] } }]\n    to: [{ operation: { methods: [POST, PUT], paths: ["/svc${i}/orders", "/svc${i}/orders/{*}"] } }]`);
    else if (kind === 2) rules.push(`  - to: [{ operation: { paths: ["/svc${i}/admin/*"] } }]\n    when: [{ key: "request.auth.claims[groups]", values: ["staff"] }]`);
    else rules.push(`  - from: [{ source: { principals: ["cluster.local/ns/svc${i}/sa/*"] } }]\n    to: [{ operation: { paths: ["/svc${i}/internal/*"] } }]`);
  }
  return `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules: [{ issuer: "${ISSUER}", audiences: [shop], jwks: ${JSON.stringify(jwks)} }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: block-debug, namespace: shop }
spec:
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/debug/*", "*.env"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: shop, namespace: shop }
spec:
  rules:
${rules.join('\n')}
`;
}

/** Audit lines kept in memory (still one JSON line per decision), so a bench can read server-side latency. */
export class MemoryAuditSink implements AuditSink {
  lines: string[] = [];
  recording = false;
  write(line: string): void {
    if (this.recording) this.lines.push(line);
  }
}

export async function startBenchFilter(ruleCount: number, jwks: string, config: Partial<FilterConfigInput> = {}, auditSink: AuditSink = openAuditSink('/dev/null')): Promise<RunningFilter> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-bench-'));
  await writeFile(join(dir, 'policies.yaml'), policyYaml(ruleCount, jwks));
  return startFilter({
    config: parseFilterConfig({ policies: [dir], watch: false, defaultWorkload: { namespace: 'shop' }, ...config }),
    logger: silentLogger(),
    registry: new Registry(),
    auditSink,
  });
}

/** Headers a browser-ish request through an ingress carries. */
export function typicalHeaders(token: string, path: string): Record<string, string> {
  return {
    ':authority': 'shop.example.com', ':method': 'GET', ':path': path, ':scheme': 'https',
    authorization: `Bearer ${token}`, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) bench', accept: 'application/json',
    'accept-encoding': 'gzip, br', 'accept-language': 'en-US,en;q=0.9', 'x-forwarded-for': '203.0.113.7',
    'x-forwarded-proto': 'https', 'x-request-id': '7d3c1a52-4a8e-4f5b-9a1e-2b7c5d9e0f11', 'x-envoy-expected-rq-timeout-ms': '200',
  };
}

/** A CheckRequest as Envoy sends it for the bench's requests (namespace shop, typical headers). */
export function benchCheckRequest(token: string, path: string) {
  return {
    attributes: {
      source: { address: { socket_address: { address: '10.1.2.3', port_value: 40000 } } },
      destination: { address: { socket_address: { address: '10.9.9.9', port_value: 8080 } } },
      request: { http: { id: '1', method: 'GET', path, host: 'shop.example.com', scheme: 'https', protocol: 'HTTP/1.1', headers: typicalHeaders(token, path) } },
      context_extensions: { namespace: 'shop' },
    },
  };
}

/**
 * bench:filter's mix: one request per token, 1 in 10 denied (no rule). The allowed ones are spread over
 * the policy's item rules, or with `match: 'last'` all go to the last item rule (rule 49 of 50, after
 * every other rule of the policy).
 */
export function benchRequests(tokens: readonly string[], ruleCount: number, match: 'spread' | 'last' = 'spread') {
  const itemRules = Math.ceil(ruleCount / 4); // every 4th rule allows GET /svc<n>/items/{*}
  const itemRule = (i: number) => (match === 'last' ? itemRules - 1 : i % itemRules) * 4;
  return tokens.map((token, i) => benchCheckRequest(token, i % 10 === 9 ? `/svc${i % ruleCount}/nothing` : `/svc${itemRule(i)}/items/${i}?page=2`));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
