/**
 * idgate's version, read from package.json: `idgate version` prints it and the management API's
 * GetVersion answers it. The module runs from src/ (tsx) or dist/src/ (built), so it looks upward.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached) return cached;
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'idgate' && pkg.version) return (cached = pkg.version);
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
