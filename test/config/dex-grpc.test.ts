/**
 * Dex's `grpc:` section loads (Dex configs run unchanged) but is not served: serve says so in a
 * warning that names the section, instead of ignoring it silently.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer } from '../../src/server.js';

const BASE = 'issuer: http://127.0.0.1:5556/dex\nstorage: { type: memory }\nweb: { http: 127.0.0.1:0 }\n';

async function warnings(yaml: string): Promise<string[]> {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => { lines.push(chunk.toString()); done(); } }));
  const server = await startServer(parseConfig(yaml, 'config.yaml', {}), { logger, listen: { web: '127.0.0.1:0', telemetry: '127.0.0.1:0' } });
  await server.close();
  return lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('Dex grpc section', () => {
  it('is accepted, and serve warns that it is not served', async () => {
    expect((await warnings(`${BASE}grpc:\n  addr: 127.0.0.1:5557\n`)).filter((m) => m.startsWith('grpc:'))).toEqual([
      "grpc: Dex's management API is not served by idgate yet; the section is ignored (docs/configuration.md#grpc)",
    ]);
  });

  it('gives no such warning without the section', async () => {
    expect((await warnings(BASE)).filter((m) => m.startsWith('grpc:'))).toEqual([]);
  });
});
