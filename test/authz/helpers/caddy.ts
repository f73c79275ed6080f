/**
 * Runs a real Caddy (the Debian package's /usr/bin/caddy) on a free 127.0.0.1 port, in the foreground
 * (`caddy run`) so the test owns and stops the process, with its data and config dirs in a temp dir and
 * no admin endpoint: the package's own service and state are never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nginx.js';

export const CADDY_BINARY = '/usr/bin/caddy';

export function caddyAvailable(): boolean {
  return existsSync(CADDY_BINARY);
}

/** What every test Caddy runs with: no admin API, no certificates, nothing bound beyond loopback. */
const GLOBAL_OPTIONS = `{
	admin off
	auto_https off
	default_bind 127.0.0.1
}
`;

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`caddy exited (${child.exitCode}): ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`caddy did not start listening on ${port}: ${output()}`);
}

export interface RunningCaddy {
  port: number;
  /** Caddy's log so far (JSON lines on stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** `siteBlocks` receives the listen port; the global options block is provided (Caddy wants it first). */
export async function startCaddy(siteBlocks: (port: number) => string): Promise<RunningCaddy> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-caddy-'));
  for (const sub of ['home', 'data', 'config']) await mkdir(join(dir, sub));
  const port = await freePort();
  const caddyfile = join(dir, 'Caddyfile');
  await writeFile(caddyfile, `${GLOBAL_OPTIONS}\n${siteBlocks(port)}`);
  const child = spawn(CADDY_BINARY, ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home'), XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  child.on('error', (error) => collect(Buffer.from(`${String(error)}\n`)));
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, log: () => output, stop };
}
