// The docs of the OAuth 2.0 connectors say what the code does: each page's YAML example passes
// idgate's config loader as it is printed, its Options table names every option the connector's
// schema accepts (and nothing the schema lacks), and the Dex options it refuses are named as such.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { parseConfig } from '../../src/config/load.js';
import { defOf, unwrap } from '../../src/config/schema-walk.js';
import { connectorFactory } from '../../src/connector.js';
import '../../connectors/index.js';

const PAGES = ['github', 'gitlab', 'google', 'microsoft', 'oauth'];
const env = {
  GITHUB_CLIENT_SECRET: 'g', GITLAB_CLIENT_SECRET: 'l', GOOGLE_CLIENT_SECRET: 'o', MICROSOFT_CLIENT_SECRET: 'm', INTRANET_CLIENT_SECRET: 'i',
};

async function page(type: string): Promise<string> {
  return readFile(new URL(`../../docs/connectors/${type}.md`, import.meta.url), 'utf8');
}

/** The first column of the Options table: each backticked name, nested ones by their first part. */
function documentedOptions(text: string): Set<string> {
  const table = /## Options\n([\s\S]*?)\n\n/.exec(text)?.[1] ?? '';
  const names = table.split('\n').slice(2).flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Za-z]+)/g)].map((match) => match[1]!));
  return new Set(names);
}

describe('docs/connectors for the OAuth 2.0 connectors', () => {
  for (const type of PAGES) {
    it(`${type}.md: the example passes the config loader`, async () => {
      const block = /```yaml\n([\s\S]*?)```/.exec(await page(type))?.[1];
      expect(block).toBeDefined();
      const config = parseConfig(`issuer: https://id.example.com/dex\nstorage: { type: memory }\nweb: { http: 127.0.0.1:5556 }\n${block}`, `${type}.md`, env);
      expect(config.connectors).toHaveLength(1);
      expect(config.connectors[0]).toMatchObject({ type });
    });

    it(`${type}.md: the Options table names exactly the options the schema accepts`, async () => {
      const text = await page(type);
      const { shape } = connectorFactory(type)!.configSchema as unknown as { shape: Record<string, z.ZodType> };
      const refused = Object.keys(shape).filter((key) => defOf(unwrap(shape[key]!)).type === 'never');
      const accepted = Object.keys(shape).filter((key) => !refused.includes(key));
      expect([...documentedOptions(text)].sort()).toEqual(accepted.sort());
      for (const key of refused) expect(text).toContain(`Not accepted: \`${key}\``);
    });
  }
});
