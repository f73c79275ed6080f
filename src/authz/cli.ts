/**
 * `idgate authz ...`: `check` validates policy files offline (exit 1 with every problem listed);
 * `explain` shows how the policies decide one request given by flags or a JSON file.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseFilterConfig } from './config.js';
import { formatPolicyProblem } from './errors.js';
import { explainRequest, formatExplanation, type ExplainRequest } from './explain.js';
import { loadPolicyFiles } from './policy/load.js';
import { PolicySet } from './policy/policy-set.js';

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const USAGE = `Usage:
  idgate authz check [--root-namespace NS] PATH...
      Validate Istio (security.istio.io v1/v1beta1) and native RBAC policy files or directories.
  idgate authz explain --policies PATH [--policies PATH...] [request flags] [--json]
      Decide one request and say why. Request flags:
        --request FILE.json     the request as JSON (keys as the flags below, plus "headers" and "claims")
        --method M --path P --host H --header "name: value" (repeatable)
        --namespace NS --labels k=v,k2=v2   the target workload (default: default, no labels)
        --peer spiffe://td/ns/N/sa/S --source-ip IP --remote-ip IP --destination-ip IP --port N --sni NAME
        --claims JSON           verified JWT claims to assume, e.g. '{"iss":"https://i","sub":"u","groups":["g"]}'
        --token JWT             take the claims from a token (decoded, NOT verified)
        --root-namespace NS     Istio root namespace (default istio-system)
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

function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('--token is not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function explain(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
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
      'root-namespace': { type: 'string', default: 'istio-system' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.policies?.length) {
    io.stderr('idgate authz explain: --policies PATH is required\n');
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
  if (values.port !== undefined) request.port = Number(values.port);
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon < 1) throw new Error(`--header "${header}": use "name: value"`);
    request.headers = { ...request.headers, [header.slice(0, colon).trim().toLowerCase()]: header.slice(colon + 1).trim() };
  }
  if (values.claims) request.claims = JSON.parse(values.claims) as Record<string, unknown>;
  if (values.token) request.claims = decodeClaims(values.token);
  const rootNamespace = values['root-namespace'];
  const loaded = await loadPolicyFiles(values.policies, { rootNamespace });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    for (const problem of errors) io.stderr(`${formatPolicyProblem(problem)}\n`);
    return 1;
  }
  const config = parseFilterConfig({ rootNamespace, policies: values.policies });
  const explanation = await explainRequest(config, new PolicySet(loaded.resources, rootNamespace), request);
  io.stdout(values.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
  if (values.token) io.stdout('note: claims were decoded from --token without verifying its signature\n');
  return 0;
}
