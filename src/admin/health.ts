/**
 * `idgate health --config FILE`: asks a running idgate, at the telemetry address its config names
 * (telemetry.http), whether it is ready (/healthz/ready), and exits 0 or 1 with one line saying why.
 * Made for container health checks (the Dockerfile's HEALTHCHECK): the port follows the config, so
 * a config that moves the telemetry listener does not leave a stale port in the image.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { splitAddress } from '../config/listen-address.js';

export interface HealthIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const HEALTH_USAGE = `Usage: idgate health --config FILE [--timeout SECONDS]

Asks the idgate serving FILE whether it is ready: GET /healthz/ready on its telemetry listener
(telemetry.http; a wildcard address is asked on loopback). Exit 0 when ready, 1 when not ready,
unreachable or silent for --timeout seconds (default 3), 2 for a usage error. One line says why.
`;

const DEFAULT_TIMEOUT_SECONDS = 3;

class UsageError extends Error {}

/** Where a process listening on `listen` answers readiness, from the same host. */
export function readinessURL(listen: string): string {
  const { host, port } = splitAddress(listen);
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}/healthz/ready`;
}

interface HealthOutcome {
  ready: boolean;
  /** One line: what was asked and what it answered (the failing checks, or why nothing answered). */
  line: string;
}

/** Asks /healthz/ready once; never throws. */
async function probeReadiness(url: string, timeoutMs: number): Promise<HealthOutcome> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError'
      ? `no answer within ${timeoutMs / 1000} s`
      : ((error as { cause?: Error }).cause?.message ?? (error as Error).message);
    return { ready: false, line: `${url}: unreachable (${reason})` };
  }
  const body = await response.json().catch(() => undefined) as { status?: unknown; checks?: Record<string, unknown> } | undefined;
  const checks = body?.checks && typeof body.checks === 'object' ? Object.entries(body.checks) : [];
  if (response.status === 200 && body?.status === 'ready') {
    return { ready: true, line: `${url}: ready${checks.length ? ` (${checks.map(([name]) => name).join(', ')} ok)` : ''}` };
  }
  if (!body || typeof body.status !== 'string') {
    return { ready: false, line: `${url}: HTTP ${response.status}, not an idgate readiness answer` };
  }
  const failing = checks.filter(([, result]) => result !== 'ok').map(([name, result]) => `${name}: ${String(result)}`);
  return { ready: false, line: `${url}: not ready (HTTP ${response.status}${failing.length ? `; ${failing.join('; ')}` : ''})` };
}

export async function runHealthCommand(args: string[], io: HealthIo): Promise<number> {
  let file: string;
  let timeoutMs: number;
  try {
    ({ file, timeoutMs } = parseHealthArgs(args));
  } catch (error) {
    if (!(error instanceof UsageError) && !(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    io.stderr(`idgate health: ${(error as Error).message}\n\n${HEALTH_USAGE}`);
    return 2;
  }
  const config = await loadConfigFile(file);
  const listen = config.telemetry.http;
  if (!listen) {
    io.stderr(`${file}: telemetry.http is not set, so nothing serves /healthz/ready\n`);
    return 1;
  }
  const outcome = await probeReadiness(readinessURL(listen), timeoutMs);
  (outcome.ready ? io.stdout : io.stderr)(`${outcome.line}\n`);
  return outcome.ready ? 0 : 1;
}

function parseHealthArgs(args: string[]): { file: string; timeoutMs: number } {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, timeout: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.config) throw new UsageError('--config FILE is required');
  const seconds = values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60) throw new UsageError('--timeout must be a number of seconds, more than 0 and at most 60');
  return { file: values.config, timeoutMs: Math.round(seconds * 1000) };
}
