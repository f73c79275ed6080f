/**
 * docs/claims.md says what the code does: every YAML example loads as printed, the refused example
 * gives exactly the errors printed under it, the worked example maps the printed claims to the
 * printed identity, and the tables of `user` fields, reserved claims, caps and the limit are the
 * code's own.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { COST_LIMIT, USER_FIELDS } from '../../src/claims/cel.js';
import { RESERVED_CLAIMS } from '../../src/claims/config.js';
import { applyConnectorClaims } from '../../src/claims/connector-claims.js';
import { INPUT_LIMITS } from '../../src/claims/values.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

const BASE = 'issuer: https://id.example.com/dex\nstorage: { type: memory }\nweb: { http: 127.0.0.1:5556 }\n';
const ENV = { CORP_CLIENT_SECRET: 'c', GRAFANA_CLIENT_SECRET: 'g' };

let doc: string;
beforeAll(async () => {
  doc = await readFile(new URL('../../docs/claims.md', import.meta.url), 'utf8');
});

const blocks = (language: string) => [...doc.matchAll(new RegExp(`(<!-- refused -->\\n)?\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => ({ refused: !!m[1], text: m[2]! }));

describe('docs/claims.md', () => {
  it('every YAML example loads as printed', () => {
    const examples = blocks('yaml').filter((block) => !block.refused);
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const { text } of examples) expect(() => parseConfig(BASE + text, 'claims.md', ENV)).not.toThrow();
  });

  it('the refused example gives exactly the errors printed under it', () => {
    const refused = blocks('yaml').find((block) => block.refused)!;
    const printed = /<!-- refused -->\n```yaml\n[\s\S]*?```\n\n```\n([\s\S]*?)```/.exec(doc)![1]!.trimEnd();
    let error: unknown;
    try {
      parseConfig(BASE + refused.text, 'config.yaml', ENV);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(printed);
  });

  it('the worked example maps the printed claims to the printed identity', () => {
    const section = doc.slice(doc.indexOf('## Worked example'));
    const config = parseConfig(BASE + /```yaml\n([\s\S]*?)```/.exec(section)![1]!, 'claims.md', ENV);
    const [upstream, identity] = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
    const mapped = applyConnectorClaims(config.connectors[0]!.claimRules!, { userId: 'ada', username: 'before', claims: upstream }, 'idp');
    expect(mapped).toMatchObject(identity!);
  });

  it('lists the fields of user, the reserved claims, the caps and the limit the code has', () => {
    const userTable = doc.slice(doc.indexOf('| `user.uid`'), doc.indexOf('`scopes` (`list(string)`'));
    expect([...userTable.matchAll(/^\| `user\.(\w+)` \| ([^|]+) \|/gm)].map((m) => m[1]).sort()).toEqual(Object.keys(USER_FIELDS).sort());
    const reserved = doc.slice(doc.indexOf('### Reserved claims'), doc.indexOf('are set by idgate'));
    expect([...reserved.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).sort()).toEqual([...RESERVED_CLAIMS].sort());
    const caps = doc.slice(doc.indexOf('| cap |'), doc.indexOf('`matches` takes'));
    expect([...caps.matchAll(/^\| ([\d,]+) \|/gm)].map((m) => Number(m[1]!.replace(/,/g, '')))).toEqual([
      INPUT_LIMITS.maxStringLength, INPUT_LIMITS.maxItems, INPUT_LIMITS.maxValues, INPUT_LIMITS.maxChars, INPUT_LIMITS.maxDepth,
    ]);
    expect(doc).toContain(`over **${COST_LIMIT.toLocaleString('en-US')}** units is refused`);
  });
});
