/**
 * The issuer's request metrics take labels from a bounded set only: a client sending made-up methods
 * (PROPFIND, FOO) or paths (every 404, every /static/<name>) must not add a series per request, or
 * /metrics grows without end (5,000 PROPFINDs once took it from 0.6 MB to 22.6 MB).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';

const CONFIG = `issuer: http://127.0.0.1:5556/dex
storage: { type: memory }
web: { http: "127.0.0.1:0" }
staticClients:
  - id: app
    secret: app-secret
    redirectURIs: [http://127.0.0.1:5555/callback]
`;

let server: RunningServer;

beforeAll(async () => {
  server = await startServer(parseConfig(CONFIG, 'test.yaml', {}), {
    logger: silentLogger(),
    listen: { web: '127.0.0.1:0', telemetry: '127.0.0.1:0' },
  });
});
afterAll(() => server.close());

async function requestSeries(): Promise<string[]> {
  const text = await (await fetch(`${server.urls.telemetry!}/metrics`)).text();
  return text.split('\n').filter((line) => /^idgate_http_requests_total\{/.test(line));
}

describe('request metric labels', () => {
  it('counts unknown methods as "other" and unmatched paths as one route, whatever the client sends', async () => {
    const web = server.urls.web!;
    for (let i = 0; i < 40; i++) {
      await fetch(`${web}/dex/no-such-page-${i}`, { method: i % 2 === 0 ? 'PROPFIND' : `FOO${i}` });
      await fetch(`${web}/dex/random-${i}/deeper`);
      await fetch(`${web}/elsewhere-${i}`, { method: 'DELETE' });
    }
    const series = await requestSeries();
    const text = series.join('\n');
    expect(text).not.toMatch(/no-such-page|random-|elsewhere-|PROPFIND|FOO/);
    expect(series.some((line) => line.includes('method="other"') && line.includes('route="unmatched"'))).toBe(true);
    // The 120 requests fall into a handful of series (method x status), not one each.
    expect(series.filter((line) => line.includes('route="unmatched"')).length).toBeLessThanOrEqual(4);
  });

  it('still names the matched route template and a known method', async () => {
    await fetch(`${server.urls.web!}/dex/.well-known/openid-configuration`);
    const series = await requestSeries();
    expect(series.some((line) => line.includes('route="/.well-known/openid-configuration"') && line.includes('method="GET"') && line.includes('status="200"'))).toBe(true);
  });
});
