/**
 * `idgate authz ...`: `check` validates policy files offline (exit 1 with every problem listed);
 * `explain` decides one request given by flags or a JSON file through serve's own pipeline and says why.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../telemetry/logger.js';
import { filterConfigSchema, parseFilterConfig, type FilterConfig } from './config.js';
import { formatPolicyProblem } from './errors.js';
import { EXPLAIN_MODES, explainRequest, formatExplanation, type ExplainMode, type ExplainRequest } from './explain.js';
import { loadPolicyFiles } from './policy/load.js';
import { PolicySet } from './policy/policy-set.js';
import { meshJwtRules } from './policy-store.js';

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const USAGE = `Usage:
  idgate authz check [--root-namespace NS] PATH...
      Validate Istio (security.istio.io v1/v1beta1) and native RBAC policy files or directories.
  idgate authz explain [--config FILE] [--policies PATH...] [request flags] [--json]
      Decide one request as serve would (same path normalization, mTLS, JWT and policy pipeline) and say why.
      Exit 0 whatever the decision; 1 on invalid policy files; 2 on bad arguments.
        --config FILE           an idgate config: its filter: section (policies, jwtRules, pathNormalization,
                                numTrustedProxies, clockSkew, algorithms, defaultWorkload, challengeAnonymous ...)
        --policies PATH         policy files or directories (repeatable; replaces filter.policies)
        --root-namespace NS     Istio root namespace (default: the config's, else istio-system)
        --path-normalization BASE|MERGE_SLASHES|DECODE_AND_MERGE_SLASHES|NONE   (overrides the config)
        --escaped-slashes KEEP_UNCHANGED|REJECT_REQUEST|UNESCAPE_AND_REDIRECT|UNESCAPE_AND_FORWARD
        --mode grpc|envoy-http|nginx|traefik   decide as that transport does (nginx and Traefik send the raw
                                request target); default: as Envoy, whose path is already normalized
      Request flags:
        --request FILE.json     the request as JSON (keys as the flags below, plus "headers", "claims", "token")
        --method M --path P --host H --header "name: value" (repeatable)
        --namespace NS --labels k=v,k2=v2   the target workload (default: filter.defaultWorkload)
        --peer spiffe://td/ns/N/sa/S --source-ip IP --remote-ip IP --destination-ip IP --port N --sni NAME
                                (without --remote-ip, remote.ip comes from X-Forwarded-For with numTrustedProxies)
        --token JWT             a token, sent as Authorization: Bearer and verified against the workload's
                                jwtRules and their keys (jwks, jwksUri, discovery: this fetches them);
                                to send it elsewhere, use --header "x-jwt: JWT" or ?access_token= in --path
        --claims JSON           offline "what if": the claims of a token carried as Authorization: Bearer,
                                e.g. '{"iss":"https://i","sub":"u","aud":"api"}'. The signature is NOT
                                verified; issuer, audiences and exp/nbf are checked as in serve. No network.
`;

export async function runAuthzCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'check':
        return await check(rest, io);
      case 'explain':
        return await explain(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return sub === undefined ? 2 : 0;
      default:
        io.stderr(`idgate authz: unknown command "${sub}"\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    io.stderr(`idgate authz ${sub}: ${(error as Error).message}\n`);
    return 2;
  }
}

async function check(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'root-namespace': { type: 'string', default: 'istio-system' } } });
  if (positionals.length === 0) {
    io.stderr('idgate authz check: name at least one policy file or directory\n');
    return 2;
  }
  const loaded = await loadPolicyFiles(positionals, { rootNamespace: values['root-namespace'] });
  for (const problem of loaded.problems) (problem.severity === 'error' ? io.stderr : io.stdout)(`${formatPolicyProblem(problem)}\n`);
  const errors = loaded.problems.filter((p) => p.severity === 'error').length;
  const counts = new Map<string, number>();
  for (const r of loaded.resources) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  const summary = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ') || 'no policies';
  io.stdout(`${loaded.files.length} file(s): ${summary}; ${errors} error(s)\n`);
  return errors > 0 ? 1 : 0;
}

type OverridableKey = 'rootNamespace' | 'pathNormalization' | 'pathWithEscapedSlashesAction';

/** A flag that overrides a filter config key, validated by the config's own schema. */
function configFlag<K extends OverridableKey>(key: K, flag: string, value: string): FilterConfig[K] {
  const parsed = filterConfigSchema.shape[key].safeParse(value);
  if (!parsed.success) throw new Error(`${flag} "${value}": ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data as FilterConfig[K];
}

/** The filter config serve would run with (--config's filter: section, or the defaults), with the flags' overrides. */
async function explainConfig(values: { config?: string | undefined; policies?: string[] | undefined; 'root-namespace'?: string | undefined; 'path-normalization'?: string | undefined; 'escaped-slashes'?: string | undefined }): Promise<{ config: FilterConfig; issuer?: string }> {
  let config: FilterConfig;
  let issuer: string | undefined;
  if (values.config) {
    const full = await loadConfigFile(values.config);
    if (!full.filter) throw new Error(`${values.config} has no filter: section`);
    config = { ...full.filter };
    // serve adds a jwtRule for its own issuer when it runs one; explain verifies that issuer's tokens through discovery.
    if (full.web.http || full.web.https) issuer = full.issuer;
  } else {
    config = parseFilterConfig({});
  }
  if (values.policies?.length) config.policies = values.policies;
  if (values['root-namespace'] !== undefined) config.rootNamespace = configFlag('rootNamespace', '--root-namespace', values['root-namespace']);
  if (values['path-normalization'] !== undefined) config.pathNormalization = configFlag('pathNormalization', '--path-normalization', values['path-normalization']);
  if (values['escaped-slashes'] !== undefined) config.pathWithEscapedSlashesAction = configFlag('pathWithEscapedSlashesAction', '--escaped-slashes', values['escaped-slashes']);
  return issuer ? { config, issuer } : { config };
}

function parseClaims(text: string): Record<string, unknown> {
  const claims = JSON.parse(text) as unknown;
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new Error('--claims: give a JSON object');
  return claims as Record<string, unknown>;
}

async function explain(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      policies: { type: 'string', multiple: true },
      request: { type: 'string' },
      method: { type: 'string' },
      path: { type: 'string' },
      host: { type: 'string' },
      header: { type: 'string', multiple: true },
      namespace: { type: 'string' },
      labels: { type: 'string' },
      peer: { type: 'string' },
      'source-ip': { type: 'string' },
      'remote-ip': { type: 'string' },
      'destination-ip': { type: 'string' },
      port: { type: 'string' },
      sni: { type: 'string' },
      claims: { type: 'string' },
      token: { type: 'string' },
      mode: { type: 'string' },
      'root-namespace': { type: 'string' },
      'path-normalization': { type: 'string' },
      'escaped-slashes': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const { config, issuer } = await explainConfig(values);
  if (config.policies.length === 0) {
    io.stderr('idgate authz explain: --policies PATH (or --config with filter.policies) is required\n');
    return 2;
  }
  const request: ExplainRequest = values.request ? (JSON.parse(await readFile(values.request, 'utf8')) as ExplainRequest) : {};
  const set = <K extends keyof ExplainRequest>(key: K, value: ExplainRequest[K] | undefined) => {
    if (value !== undefined) request[key] = value;
  };
  set('method', values.method);
  set('path', values.path);
  set('host', values.host);
  set('namespace', values.namespace);
  set('labels', values.labels);
  set('peer', values.peer);
  set('sourceIp', values['source-ip']);
  set('remoteIp', values['remote-ip']);
  set('destinationIp', values['destination-ip']);
  set('sni', values.sni);
  set('token', values.token);
  if (values.claims !== undefined) request.claims = parseClaims(values.claims);
  if (values.port !== undefined) request.port = Number(values.port);
  set('mode', values.mode as ExplainMode | undefined);
  if (request.mode !== undefined && !EXPLAIN_MODES.includes(request.mode)) throw new Error(`--mode "${request.mode}": use one of ${EXPLAIN_MODES.join(', ')}`);
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon < 1) throw new Error(`--header "${header}": use "name: value"`);
    request.headers = { ...request.headers, [header.slice(0, colon).trim().toLowerCase()]: header.slice(colon + 1).trim() };
  }
  if (request.token !== undefined && request.claims !== undefined) throw new Error('give --token or --claims, not both');
  const loaded = await loadPolicyFiles(config.policies, { rootNamespace: config.rootNamespace });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    for (const problem of errors) io.stderr(`${formatPolicyProblem(problem)}\n`);
    return 1;
  }
  const policies = new PolicySet(loaded.resources, config.rootNamespace, meshJwtRules(config, issuer));
  // A JWKS that cannot be fetched shows as ERR_JWKS_UNAVAILABLE; the reason why goes to stderr.
  const logger = createLogger({ level: 'warn', format: 'text', destination: { write: (line: string) => io.stderr(line) } });
  const explanation = await explainRequest(policies, request, { config, logger });
  io.stdout(values.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
  return 0;
}
