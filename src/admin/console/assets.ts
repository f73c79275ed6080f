/**
 * The console's static files, served by the console itself (no CDN, so the CSP stays 'self'): its own
 * stylesheet and scripts from assets/ beside this module's source, and the graph libraries as npm
 * installed them (Cytoscape.js and cytoscape-dagre's UMD builds). Read once at start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  type: string;
  body: Buffer;
}

const OWN = ['console.css', 'console.js', 'graph.js'] as const;
/** Served name: [package, file beside the package's main entry] (their exports maps do not name the UMD builds). */
const LIBRARIES: Record<string, [string, string]> = {
  'cytoscape.min.js': ['cytoscape', 'cytoscape.min.js'],
  'cytoscape-dagre.min.js': ['cytoscape-dagre', 'cytoscape-dagre.min.js'],
};

const TYPES: Record<string, string> = { css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' };

/** src/admin/console/assets, from src/ (tsx) or dist/src/ (built; the files are not compiled, so found in the package's src/). */
function assetsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    for (const candidate of [join(dir, 'assets'), join(dir, 'src', 'admin', 'console', 'assets')]) {
      if (existsSync(join(candidate, 'console.css'))) return candidate;
    }
    dir = dirname(dir);
  }
  throw new Error('the console assets (src/admin/console/assets) are missing from the installation');
}

export function loadConsoleAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const dir = assetsDir();
  const assets = new Map<string, Asset>();
  for (const name of OWN) assets.set(name, { type: TYPES[name.split('.').pop()!]!, body: readFileSync(join(dir, name)) });
  for (const [name, [pkg, file]] of Object.entries(LIBRARIES)) assets.set(name, { type: TYPES.js!, body: readFileSync(join(dirname(require.resolve(pkg)), file)) });
  return assets;
}
