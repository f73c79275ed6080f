/**
 * Runs a real nginx (the Debian package's /usr/sbin/nginx) with its own config in a temp dir, on free
 * 127.0.0.1 ports, in the foreground so the test owns and stops the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/free-port.js';

export { freePort };

export const NGINX_BINARY = '/usr/sbin/nginx';

export function nginxAvailable(): boolean {
  return existsSync(NGINX_BINARY);
}

async function waitForPort(port: number, child: ChildProcess, errorLog: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${await readFile(errorLog, 'utf8').catch(() => '')}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nginx did not start listening');
}

export interface RunningNginx {
  port: number;
  stop(): Promise<void>;
}

/**
 * `serverBlock` receives the listen port (`port`, when the test needs it before nginx starts, else a
 * free one); the http{} wrapper, temp paths and logs are provided.
 */
export async function startNginx(serverBlock: (port: number) => string, options: { port?: number } = {}): Promise<RunningNginx> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-nginx-'));
  await mkdir(join(dir, 'tmp'));
  const port = options.port ?? (await freePort());
  const errorLog = join(dir, 'error.log');
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${errorLog} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
${serverBlock(port)}
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const child = spawn(NGINX_BINARY, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog], { stdio: 'ignore' });
  try {
    await waitForPort(port, child, errorLog);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
