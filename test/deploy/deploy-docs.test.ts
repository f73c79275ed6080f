/**
 * docs/deploy.md points at the files the other deploy tests render: every relative link resolves, every
 * deploy/ path it names exists, and the README links it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './render.js';

describe('docs/deploy.md', () => {
  it('links only to files and folders that exist', async () => {
    const docs = await readFile(join(REPO, 'docs/deploy.md'), 'utf8');
    const links = [...docs.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((match) => match[1]!).filter((target) => !/^[a-z]+:/.test(target));
    expect(links.length).toBeGreaterThan(10);
    for (const target of links) expect(existsSync(join(REPO, 'docs', target)), target).toBe(true);
  });

  it('names only deploy/ paths that exist', async () => {
    const docs = await readFile(join(REPO, 'docs/deploy.md'), 'utf8');
    const paths = [...docs.matchAll(/(?<![\w/.])deploy\/[\w./-]*[\w]/g)].map((match) => match[0]);
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) expect(existsSync(join(REPO, path)), path).toBe(true);
  });

  it('is linked from the README', async () => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/deploy.md)');
  });
});
