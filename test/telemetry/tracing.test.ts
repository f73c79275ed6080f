/**
 * OpenTelemetry traces (config `telemetry.tracing`), collected by an OTLP/HTTP receiver in the test:
 * a login and a token request to a real issuer, and ext_authz Checks over gRPC and HTTP, that carry a
 * `traceparent` continue its trace (every span shares its trace id, parents chain up to it), spans
 * carry their attributes and never a password, code or token, and log and audit lines name the
 * trace. With tracing off nothing is exported and no line names a trace.
 */
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { connectorFactory, type CallbackConnector } from '../../src/connector.js';
import '../../connectors/index.js';
import { tracedFetch } from '../../connectors/oidc/traced-fetch.js';
import { buildIssuer, type Issuer } from '../../src/issuer.js';
import { startServer } from '../../src/server.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import { openAuditStream } from '../../src/telemetry/audit.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';
import { SpanKind, startTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { startFilterFixture, writePolicies, type FilterFixture } from '../authz/helpers/filter-fixture.js';
import { ExtAuthzClient } from '../authz/helpers/grpc-client.js';
import { httpCheck } from '../authz/helpers/http-client.js';
import { jwksOf, mint, testKey } from '../authz/helpers/tokens.js';
import { freePort } from '../helpers/free-port.js';
import { testContext } from '../connectors/context.js';
import { browseUpstream, startUpstreamIdP } from '../connectors/oidc/upstream-idp.js';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, DEFAULT_TEST_CONFIG, EXAMPLE_APP } from '../helpers/issuer.js';

// ---- an OTLP/HTTP (JSON) traces receiver ----

interface OtlpValue { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number }
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
  status?: { code?: number };
}
interface OtlpRequest {
  resourceSpans: Array<{ resource?: { attributes?: Array<{ key: string; value: OtlpValue }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

/** A span as the receiver got it, with its attributes as plain values and its resource's service name. */
interface ReceivedSpan extends Omit<OtlpSpan, 'attributes'> {
  attributes: Record<string, string | number | boolean>;
  service: string;
}

const OTLP_SERVER = 2;
const OTLP_CLIENT = 3;

function plain(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.boolValue !== undefined) return value.boolValue;
  return value.doubleValue ?? NaN;
}

async function startReceiver() {
  const bodies: string[] = [];
  const contentTypes: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        contentTypes.push(String(req.headers['content-type']));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    bodies,
    contentTypes,
    spans(): ReceivedSpan[] {
      return bodies.flatMap((body) => (JSON.parse(body) as OtlpRequest).resourceSpans.flatMap((resourceSpans) => {
        const service = String(plain(resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {}));
        return resourceSpans.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({
          ...span,
          service,
          attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, plain(a.value)])),
        })));
      }));
    },
    clear: () => void bodies.splice(0),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

// ---- helpers ----

function traceparent(traceId: string, parentId: string): string {
  return `00-${traceId}-${parentId}-01`;
}

function authURL(url: string): string {
  const query = new URLSearchParams({ client_id: EXAMPLE_APP.id, redirect_uri: EXAMPLE_APP.redirectURI, response_type: 'code', scope: 'openid email offline_access', state: 'st-1' });
  return `${url}/auth?${query}`;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** Every span's parent is the incoming parent or another span of the same trace. */
function expectChained(spans: ReceivedSpan[], parentId: string): void {
  const ids = new Set(spans.map((span) => span.spanId));
  for (const span of spans) {
    expect(span.parentSpanId === parentId || ids.has(span.parentSpanId ?? ''), `${span.name} has an unknown parent ${span.parentSpanId}`).toBe(true);
  }
}

function expectNoSecrets(receiver: Receiver, secrets: string[]): void {
  const sent = receiver.bodies.join('\n');
  for (const secret of secrets) expect(sent.includes(secret), 'a secret reached an exported span').toBe(false);
}

function captureLogger(lines: string[], tracing?: Tracing): Logger {
  return createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
    ...(tracing ? { traceId: () => tracing.traceId() } : {}),
  });
}

/** A whole issuer on a port of its own, its audit stream in `auditFile`. */
async function startIssuer(auditFile: string, logger: Logger, tracing?: Tracing) {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dex`;
  const config = parseConfig(`issuer: ${url}\n${DEFAULT_TEST_CONFIG}\naudit:\n  stdout: false\n  file: ${auditFile}\n`, 'tracing-test.yaml', {});
  const storage = createStorage(createMemoryBackend(), { now: Date.now });
  const audit = openAuditStream(config.audit);
  const issuer: Issuer = await buildIssuer(config, { logger, storage, audit, ...(tracing ? { tracing } : {}) });
  server.on('request', issuer.app.callback());
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await issuer.close();
      await audit.end();
    },
  };
}

/** Logs in as ADMIN through the password connector and redeems the code; every request carries `headers`. */
async function loginAndToken(url: string, headers: Record<string, string>) {
  const landed = await followLogin(authURL(url), { redirectURI: EXAMPLE_APP.redirectURI, connector: 'local', username: ADMIN.email, password: ADMIN.password, headers });
  const code = landed.searchParams.get('code')!;
  const authorization = basic(EXAMPLE_APP.id, EXAMPLE_APP.secret);
  const response = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization, ...headers },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: EXAMPLE_APP.redirectURI }),
  });
  expect(response.status).toBe(200);
  const tokens = (await response.json()) as { access_token: string; id_token: string; refresh_token: string };
  return { secrets: [ADMIN.password, EXAMPLE_APP.secret, authorization.slice(6), code, tokens.access_token, tokens.id_token, tokens.refresh_token] };
}

const ISS = 'https://tokens.example';

function filterPolicies(jwks: string): Record<string, string> {
  return {
    'policies.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules:
  - issuer: ${ISS}
    jwks: ${JSON.stringify(jwks)}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: api, namespace: shop }
spec:
  rules:
  - to: [{ operation: { paths: ["/health"] } }]
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/api/*"] } }]
`,
  };
}

const auditLines = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
const logRecords = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

// ---- the tests ----

let dir: string;
let receiver: Receiver;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idgate-tracing-'));
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

describe('traces with telemetry.tracing', () => {
  let tracing: Tracing;

  beforeAll(() => {
    tracing = startTracing({ otlpEndpoint: receiver.url, serviceName: 'idgate-test', sampleRatio: 1 });
  });

  afterAll(async () => {
    await tracing.shutdown();
  });

  it('continues a login and a token request from their traceparent, down to storage, and names the trace in log and audit lines', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const auditFile = join(dir, 'issuer-on.log');
    const logs: string[] = [];
    const issuer = await startIssuer(auditFile, captureLogger(logs, tracing), tracing);
    receiver.clear();
    const { secrets } = await loginAndToken(issuer.url, { traceparent: traceparent(trace, parent) });
    await issuer.close();
    await tracing.forceFlush();

    expect(receiver.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true);
    const spans = receiver.spans();
    expect(spans.length).toBeGreaterThan(0);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([trace]));
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['idgate-test']));
    expectChained(spans, parent);

    const endpoints = spans.filter((span) => span.kind === OTLP_SERVER);
    for (const span of endpoints) {
      expect(span.parentSpanId).toBe(parent);
      expect(span.name).toBe(`${span.attributes['http.request.method']} ${span.attributes['http.route']}`);
      expect(typeof span.attributes['http.response.status_code']).toBe('number');
    }
    const names = endpoints.map((span) => span.name);
    expect(names).toContain('GET /auth');
    expect(names).toContain('POST /token');
    const token = endpoints.find((span) => span.name === 'POST /token')!;
    expect(token.attributes['http.response.status_code']).toBe(200);

    // Storage operations are children of the endpoint that made them.
    const storage = spans.filter((span) => span.name.startsWith('storage '));
    const underToken = storage.filter((span) => span.parentSpanId === token.spanId);
    expect(underToken.map((span) => span.name)).toContain('storage authCodes.take');
    for (const span of storage) {
      expect(span.kind).toBe(OTLP_CLIENT);
      expect(span.attributes['db.system.name']).toBe('memory');
      expect(span.attributes['db.operation.name']).toBeTypeOf('string');
    }
    expectNoSecrets(receiver, secrets);

    // Every line logged inside a request names its trace.
    const requestLines = logRecords(logs).filter((line) => line.requestId !== undefined);
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of requestLines) expect(line.traceId).toBe(trace);

    const audited = await auditLines(auditFile);
    expect(audited.map((line) => line.type)).toEqual(expect.arrayContaining(['login', 'token_issued']));
    for (const line of audited) expect(line.traceId).toBe(trace);
  });

  describe('the filter decision', () => {
    let fixture: FilterFixture;
    let token: string;
    const logs: string[] = [];

    beforeAll(async () => {
      const key = await testKey('k1');
      token = await mint(key, { iss: ISS, sub: 'alice' });
      fixture = await startFilterFixture(filterPolicies(JSON.stringify(jwksOf(key))), {}, { tracing, logger: captureLogger(logs, tracing) });
    });

    afterAll(async () => {
      await fixture.close();
    });

    it('is a span of the gRPC Check\'s trace (attributes.request.http.headers), with how and by what it was decided', async () => {
      const trace = '0af7651916cd43dd8448eb211c80319c';
      const parent = 'b7ad6b7169203331';
      receiver.clear();
      fixture.audit.splice(0);
      const client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
      const response = await client.check({ path: '/api/items?access_token=x', namespace: 'shop', headers: { authorization: `Bearer ${token}`, traceparent: traceparent(trace, parent) } });
      client.close();
      expect(response.status?.code ?? 0).toBe(0);
      await tracing.forceFlush();

      const spans = receiver.spans();
      expect(spans).toHaveLength(1);
      const [span] = spans;
      expect(span!.name).toBe('ext_authz check');
      expect(span!.kind).toBe(OTLP_SERVER);
      expect(span!.traceId).toBe(trace);
      expect(span!.parentSpanId).toBe(parent);
      expect(span!.attributes).toEqual({
        'authz.transport': 'grpc',
        'authz.decision': 'allow',
        'authz.reason': 'allowed',
        'authz.policy': 'shop/api',
        'authz.rule': 1,
        'authz.namespace': 'shop',
        'http.response.status_code': 200,
      });
      expectNoSecrets(receiver, [token, 'access_token']);

      const line = JSON.parse(fixture.audit.at(-1)!) as Record<string, unknown>;
      expect(line.traceId).toBe(trace);
    });

    it('is a span of the HTTP (nginx auth_request) check\'s trace (the request\'s own headers), a deny included', async () => {
      const trace = 'a3ce929d0e0e47364bf92f3577b34da6';
      const parent = '53995c3f42cd8ad8';
      receiver.clear();
      fixture.audit.splice(0);
      const outcome = await httpCheck(fixture.filter.httpPort!, 'nginx', { path: '/api/items', namespace: 'shop', headers: { traceparent: traceparent(trace, parent) } });
      expect(outcome.status).toBe(403);
      await tracing.forceFlush();

      const [span, ...more] = receiver.spans();
      expect(more).toHaveLength(0);
      expect(span!.traceId).toBe(trace);
      expect(span!.parentSpanId).toBe(parent);
      expect(span!.attributes).toMatchObject({ 'authz.transport': 'nginx', 'authz.decision': 'deny', 'authz.reason': 'no_allow_match', 'authz.namespace': 'shop', 'http.response.status_code': 403 });
      expect(JSON.parse(fixture.audit.at(-1)!)).toMatchObject({ traceId: trace, reason: 'no_allow_match' });
    });

    it('starts a trace of its own for a request without traceparent', async () => {
      receiver.clear();
      fixture.audit.splice(0);
      const client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
      await client.check({ path: '/health', namespace: 'shop' });
      client.close();
      await tracing.forceFlush();
      const [span] = receiver.spans();
      expect(span!.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span!.parentSpanId ?? '').toBe('');
      expect(JSON.parse(fixture.audit.at(-1)!)).toMatchObject({ traceId: span!.traceId });
    });
  });

  it('makes a span per upstream call of the OIDC connector (discovery, token), as children of the request', async () => {
    const callback = 'http://127.0.0.1:5556/dex/callback/corp';
    const idp = await startUpstreamIdP({ redirectURIs: [callback] });
    idp.accounts.set('alice', { sub: 'alice', name: 'Alice', email: 'alice@example.com', email_verified: true });
    idp.nextAccount = 'alice';
    try {
      const factory = connectorFactory('oidc')!;
      const config = factory.configSchema.parse({ issuer: idp.issuer, clientID: idp.clientId, clientSecret: idp.clientSecret, redirectURI: callback });
      const connector = (await factory.open(config, { ...testContext('corp'), tracing })) as CallbackConnector;
      const scopes = { offlineAccess: false, groups: false };
      receiver.clear();
      const trace = '5b8efff798038103d269b633813fc60c';
      const request = tracing.startSpan('GET /callback/:connector', { kind: SpanKind.SERVER }, tracing.extract({ traceparent: traceparent(trace, 'eee19b7ec3c1b174') }));
      const identity = await tracing.withSpan(request, async () => {
        const { url, connectorData } = await connector.loginURL(scopes, callback, 'state-123');
        const landed = await browseUpstream(url, callback);
        return connector.handleCallback(scopes, connectorData, { url: landed });
      });
      request.end();
      expect(identity.userId).toBe('alice');
      await tracing.forceFlush();

      const calls = receiver.spans().filter((span) => span.kind === OTLP_CLIENT);
      expect(calls.map((span) => span.attributes['url.path'])).toEqual(expect.arrayContaining(['/.well-known/openid-configuration', '/token']));
      for (const call of calls) {
        expect(call.name).toBe(`HTTP ${call.attributes['http.request.method']}`);
        expect(call.traceId).toBe(trace);
        expect(call.parentSpanId).toBe(request.spanContext().spanId);
        expect(call.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'idgate.upstream': 'oidc', 'http.response.status_code': 200 });
      }
      expectNoSecrets(receiver, [idp.clientSecret, 'state-123']);
    } finally {
      await idp.close();
    }
  });

  it('sends the trace on to the upstream in traceparent, naming neither the query nor a header', async () => {
    let received: string | undefined;
    const upstream = http.createServer((req, res) => {
      received = req.headers.traceparent as string | undefined;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    receiver.clear();
    const request = tracing.startSpan('request', { kind: SpanKind.SERVER });
    const response = await tracing.withSpan(request, () => tracedFetch(tracing)(`http://127.0.0.1:${port}/token?secret-query=1`, { method: 'POST', headers: { authorization: 'Basic c2VjcmV0' } }));
    request.end();
    expect(response.status).toBe(200);
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await tracing.forceFlush();

    const call = receiver.spans().find((span) => span.kind === OTLP_CLIENT)!;
    expect(call.attributes).toEqual({ 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'url.path': '/token', 'idgate.upstream': 'oidc', 'http.response.status_code': 200 });
    expect(received).toBe(`00-${call.traceId}-${call.spanId}-01`);
    expectNoSecrets(receiver, ['secret-query', 'c2VjcmV0']);
  });
});

describe('idgate serve and telemetry.tracing', () => {
  async function serve(tracingYaml: string) {
    const policies = await writePolicies(filterPolicies(JSON.stringify(jwksOf(await testKey('k2')))));
    const files = { issuer: join(policies, 'issuer-audit.log'), filter: join(policies, 'filter-audit.log') };
    const port = await freePort();
    const config = parseConfig(`issuer: http://127.0.0.1:${port}/dex
${DEFAULT_TEST_CONFIG}
audit:
  stdout: false
  file: ${files.issuer}
filter:
  grpc: 127.0.0.1:0
  policies: [${policies}]
  watch: false
  audit: { file: ${files.filter} }
${tracingYaml}`, 'serve-tracing.yaml', {});
    const logs: string[] = [];
    const server = await startServer(config, { logger: captureLogger(logs), listen: { web: `127.0.0.1:${port}` } });
    return { server, config, files, logs, policies };
  }

  it('exports the spans of the tracer it starts from the config, flushed on close', async () => {
    receiver.clear();
    const { server, config, policies } = await serve(`telemetry:\n  tracing:\n    otlpEndpoint: ${receiver.url}\n    serviceName: idgate-served\n`);
    expect(config.telemetry.tracing).toEqual({ otlpEndpoint: receiver.url, serviceName: 'idgate-served', sampleRatio: 1 });
    const trace = '11f067aa0ba902b74bf92f3577b34da6';
    const discovery = await fetch(`${server.urls.web}/dex/.well-known/openid-configuration`, { headers: { traceparent: traceparent(trace, '22f067aa0ba902b7') } });
    expect(discovery.status).toBe(200);
    const client = new ExtAuthzClient(server.urls.filterGrpc!);
    await client.check({ path: '/health', namespace: 'shop', headers: { traceparent: traceparent(trace, '33f067aa0ba902b7') } });
    client.close();
    await server.close();
    await rm(policies, { recursive: true, force: true });

    const spans = receiver.spans();
    expect(spans.map((span) => span.name).sort()).toEqual(['GET /.well-known/openid-configuration', 'ext_authz check']);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([trace]));
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['idgate-served']));
  });

  it('exports nothing and names no trace in log or audit lines without it', async () => {
    receiver.clear();
    const { server, config, files, logs, policies } = await serve('');
    expect(config.telemetry.tracing).toBeUndefined();
    await loginAndToken(`${server.urls.web}/dex`, { traceparent: traceparent('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7') });
    const client = new ExtAuthzClient(server.urls.filterGrpc!);
    await client.check({ path: '/health', namespace: 'shop', headers: { traceparent: traceparent('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7') } });
    client.close();
    await server.close();

    expect(receiver.bodies).toHaveLength(0);
    const issuerLines = await auditLines(files.issuer);
    const filterLines = await auditLines(files.filter);
    expect(filterLines.length).toBeGreaterThan(0);
    for (const line of [...issuerLines, ...filterLines]) expect(line).not.toHaveProperty('traceId');
    const records = logRecords(logs);
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(record).not.toHaveProperty('traceId');
    await rm(policies, { recursive: true, force: true });
  });
});

describe('telemetry.tracing config', () => {
  const parse = (tracing: string) => () => parseConfig(`issuer: http://127.0.0.1:5556/dex\n${DEFAULT_TEST_CONFIG}\ntelemetry:\n  tracing:\n${tracing}`, 'bad-tracing.yaml', {});

  it('defaults serviceName to idgate and sampleRatio to 1', () => {
    expect(parse('    otlpEndpoint: http://collector:4318/v1/traces\n')().telemetry.tracing).toEqual({ otlpEndpoint: 'http://collector:4318/v1/traces', serviceName: 'idgate', sampleRatio: 1 });
  });

  it('refuses an endpoint that is not an http(s) URL, naming the key', () => {
    expect(parse('    otlpEndpoint: collector:4318\n')).toThrow(/telemetry\.tracing\.otlpEndpoint.*http\(s\) URL/s);
    expect(parse('    otlpEndpoint: grpc://collector:4317\n')).toThrow(/telemetry\.tracing\.otlpEndpoint/);
  });

  it('refuses a missing endpoint, a ratio outside 0..1, an empty service name and an unknown key', () => {
    expect(parse('    serviceName: x\n')).toThrow(/telemetry\.tracing\.otlpEndpoint/);
    expect(parse('    otlpEndpoint: http://c:4318/v1/traces\n    sampleRatio: 1.5\n')).toThrow(/telemetry\.tracing\.sampleRatio.*between 0 and 1/s);
    expect(parse('    otlpEndpoint: http://c:4318/v1/traces\n    sampleRatio: -0.1\n')).toThrow(/telemetry\.tracing\.sampleRatio/);
    expect(parse('    otlpEndpoint: http://c:4318/v1/traces\n    serviceName: ""\n')).toThrow(/telemetry\.tracing\.serviceName/);
    expect(parse('    otlpEndpoint: http://c:4318/v1/traces\n    endpoint: http://c:4318\n')).toThrow(/telemetry\.tracing.*endpoint/s);
  });
});
