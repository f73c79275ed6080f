/**
 * Reads policy files and directories: YAML with several documents per file (and `kind: List`), keeps
 * the security.istio.io and idgate.dev resources, checks each against its schema and Istio's validation
 * rules, and returns them with every problem found (file, document, field path, message). Asked for
 * `extras` (`idgate validate`), it also returns DestinationRules and Kubernetes inventory documents,
 * which the filter never compiles, and the line of every field.
 */
import type { BigIntStats } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../../config/errors.js';
import { locator } from '../../config/load.js';
import type { PolicyProblem } from '../errors.js';
import {
  DESTINATION_RULE_API_VERSIONS, INVENTORY_KINDS, ISTIO_API_VERSIONS, NATIVE_API_VERSION, SPEC_SCHEMAS,
  destinationRuleSpecSchema, inventoryMetadataSchema, metadataSchema,
  type DestinationRuleResource, type InventoryDocument, type PolicyResource,
} from './resources.js';
import { validateResource, validateResourceSet } from './validate.js';

export interface LoadedPolicies {
  resources: PolicyResource[];
  problems: PolicyProblem[];
  files: string[];
  /** What the files looked like before they were read (see policyFingerprint). */
  fingerprint: string;
  /** Only when asked for (ParseOptions.extras): what the filter does not read. */
  extras?: ExtraDocuments;
}

export interface ParseOptions {
  rootNamespace: string;
  /**
   * `idgate validate`: also keep DestinationRules and inventory documents (in `extras`, never in
   * `resources`, so the filter compiles exactly what it did). Implies `locate`.
   */
  extras?: boolean;
  /** Give resources `locate` and problems `line` (for findings that say where they are). */
  locate?: boolean;
}

export interface ExtraDocuments {
  destinationRules: DestinationRuleResource[];
  inventory: InventoryDocument[];
  /** Documents of kinds nobody reads (VirtualService, Secret ...): skipped without a problem, counted by kind. */
  ignored: Map<string, number>;
}

/** A policy file as found: the path it was listed under, and the stat of what it points to. */
export interface ScannedFile {
  path: string;
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** A directory the listing walked (what a watcher has to watch), with the identity of what it points to. */
export interface ScannedDirectory {
  path: string;
  dev: bigint;
  ino: bigint;
}

export interface PolicyScan {
  files: ScannedFile[];
  directories: ScannedDirectory[];
  problems: PolicyProblem[];
}

const ISTIO_KINDS = new Set(['AuthorizationPolicy', 'RequestAuthentication', 'PeerAuthentication']);
const NATIVE_KINDS = new Set(['Role', 'RoleBinding']);
const POLICY_FILE = /\.(ya?ml|json)$/;

/**
 * Lists the policy files under the given paths without reading them. A named file is taken as is; a
 * directory is walked (sorted, *.yaml / *.yml / *.json) following symlinks, and skipping every entry
 * whose name starts with "." — Kubernetes' atomic writer keeps a ConfigMap's real files in `..<timestamp>`
 * behind a `..data` symlink, with a top-level symlink per key, so only those symlinks are read (once);
 * editor swap files (`.x.yaml.swp`) are skipped too.
 */
export async function scanPolicyPaths(paths: readonly string[]): Promise<PolicyScan> {
  const scan: PolicyScan = { files: [], directories: [], problems: [] };
  const visited = new Set<string>();
  const problem = (file: string, message: string, severity: 'error' | 'warning' = 'error') =>
    scan.problems.push({ file, document: 0, path: '', message, severity });

  const walk = async (directory: string, identity: { dev: bigint; ino: bigint }): Promise<void> => {
    const key = `${identity.dev}:${identity.ino}`;
    if (visited.has(key)) return; // a symlink loop, or the same directory named twice
    visited.add(key);
    scan.directories.push({ path: directory, ...identity });
    let names: string[];
    try {
      names = (await readdir(directory)).sort();
    } catch (error) {
      return void problem(directory, `cannot read: ${(error as Error).message}`);
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const entry = join(directory, name);
      let info;
      try {
        info = await stat(entry, { bigint: true });
      } catch (error) {
        // A dangling symlink (a ConfigMap key mid-removal) or a file deleted since readdir: not a policy file now.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') problem(entry, 'vanished while listing (dangling symlink?); skipped', 'warning');
        else problem(entry, `cannot read: ${(error as Error).message}`);
        continue;
      }
      if (info.isDirectory()) await walk(entry, { dev: info.dev, ino: info.ino });
      else if (info.isFile() && POLICY_FILE.test(name)) scan.files.push(fileOf(entry, info));
    }
  };

  for (const path of paths) {
    let info;
    try {
      info = await stat(path, { bigint: true });
    } catch (error) {
      problem(path, `cannot read: ${(error as Error).message}`);
      continue;
    }
    if (info.isDirectory()) await walk(path, { dev: info.dev, ino: info.ino });
    else scan.files.push(fileOf(path, info));
  }
  return scan;
}

function fileOf(path: string, info: BigIntStats): ScannedFile {
  return { path, dev: info.dev, ino: info.ino, size: info.size, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs };
}

/**
 * A cheap identity of the policy files as listed: each path with the device, inode, size, mtime and
 * ctime (nanoseconds) of what it points to, plus what could not be listed. A write in place changes
 * size or mtime; a rename over a file, a ConfigMap `..data` swap and a replaced directory change the
 * inode. Computed before the files are read, so a change during a load shows up on the next look.
 */
export function policyFingerprint(scan: PolicyScan): string {
  const files = scan.files.map((f) => `${f.path}\0${f.dev}:${f.ino}:${f.size}:${f.mtimeNs}:${f.ctimeNs}`);
  const problems = scan.problems.map((p) => `${p.file}\0${p.message}`);
  return [...files, '', ...problems].join('\n');
}

export async function loadPolicyFiles(paths: readonly string[], options: ParseOptions): Promise<LoadedPolicies> {
  const scan = await scanPolicyPaths(paths);
  const fingerprint = policyFingerprint(scan);
  const problems = [...scan.problems];
  const files = scan.files.map((f) => f.path);
  const texts: Array<{ file: string; text: string }> = [];
  for (const file of files) {
    try {
      texts.push({ file, text: await readFile(file, 'utf8') });
    } catch (error) {
      problems.push({ file, document: 0, path: '', message: `cannot read: ${(error as Error).message}`, severity: 'error' });
    }
  }
  const parsed = parsePolicyTexts(texts, options);
  return { ...parsed, problems: [...problems, ...parsed.problems], files, fingerprint };
}

/** Parses already-read policy texts (the loader and tests share this). */
export function parsePolicyTexts(texts: ReadonlyArray<{ file: string; text: string }>, options: ParseOptions): Pick<LoadedPolicies, 'resources' | 'problems' | 'extras'> {
  const resources: PolicyResource[] = [];
  const problems: PolicyProblem[] = [];
  const extras: ExtraDocuments | undefined = options.extras ? { destinationRules: [], inventory: [], ignored: new Map() } : undefined;
  for (const { file, text } of texts) {
    const lines = extras || options.locate ? new LineCounter() : undefined;
    const documents = parseAllDocuments(text, lines ? { lineCounter: lines } : {});
    const list = Array.isArray(documents) ? documents : [documents];
    list.forEach((doc, index) => {
      if (doc.errors.length > 0) {
        const line = doc.errors[0]!.linePos?.[0]?.line;
        problems.push({ file, document: index, path: '', message: `YAML: ${doc.errors[0]!.message}`, severity: 'error', ...(lines && line ? { line } : {}) });
        return;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return;
      const isList = isObject(value) && value.kind === 'List' && Array.isArray(value.items);
      const items = isList ? (value.items as unknown[]) : [value];
      items.forEach((item, i) => {
        const at = { file, document: index, ...(lines ? { locate: fieldLocator(doc, lines, isList ? ['items', i] : []) } : {}) };
        if (extras && readExtra(item, at, extras, problems)) return;
        const resource = readResource(item, at, resources.length, options, problems);
        if (resource) resources.push(resource);
      });
    });
  }
  problems.push(...validateResourceSet(resources));
  return { resources, problems, ...(extras ? { extras } : {}) };
}

interface Origin {
  file: string;
  document: number;
  locate?: (path: string) => number | undefined;
}

/** `spec.rules[0].to[1]` as the keys of a YAML path. */
function fieldKeys(path: string): Array<string | number> {
  const keys: Array<string | number> = [];
  for (const part of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) keys.push(part.startsWith('[') ? Number(part.slice(1, -1)) : part);
  return keys;
}

/** The line of a field path inside one document (or one item of a `kind: List`); the object's first line for "". */
function fieldLocator(doc: Document, lines: LineCounter, prefix: Array<string | number>): (path: string) => number | undefined {
  const find = locator(doc, lines);
  const node = (prefix.length ? doc.getIn(prefix, true) : doc.contents) as { range?: [number, number, number] } | null | undefined;
  const start = node?.range ? lines.linePos(node.range[0]).line : undefined;
  return (path) => (path === '' ? start : find([...prefix, ...fieldKeys(path)]) ?? start);
}

/** DestinationRules and inventory documents, when asked for; true when the document was one of them. */
function readExtra(value: unknown, at: Origin, extras: ExtraDocuments, problems: PolicyProblem[]): boolean {
  if (!isObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') return false;
  const { apiVersion, kind } = value;
  const isRule = kind === 'DestinationRule' && (DESTINATION_RULE_API_VERSIONS as readonly string[]).includes(apiVersion);
  if (!isRule && !INVENTORY_KINDS[apiVersion]?.has(kind)) {
    if (apiVersion.startsWith('security.istio.io/') || apiVersion === NATIVE_API_VERSION) return false;
    extras.ignored.set(`${kind} (${apiVersion})`, (extras.ignored.get(`${kind} (${apiVersion})`) ?? 0) + 1);
    return true;
  }
  const problem = (path: string, message: string, resource?: string) =>
    problems.push({ ...origin(at, path), path, message, severity: 'error', ...(resource ? { resource } : {}) });
  const metadata = inventoryMetadataSchema.safeParse(value.metadata);
  if (!metadata.success) {
    reportZod(metadata.error, 'metadata', problem);
    return true;
  }
  const { name, namespace, labels = {}, annotations = {} } = metadata.data;
  if (!isRule) {
    extras.inventory.push({ apiVersion, kind, name, ...(namespace ? { namespace } : {}), labels, annotations, ...at, value });
    return true;
  }
  const label = `${kind} ${namespace ?? 'default'}/${name}`;
  const spec = destinationRuleSpecSchema.safeParse(value.spec ?? {});
  if (!spec.success) {
    reportZod(spec.error, 'spec', (path, message) => problem(path, message, label));
    return true;
  }
  extras.destinationRules.push({ kind, name, namespace: namespace ?? 'default', ...at, order: extras.destinationRules.length, annotations, spec: spec.data });
  return true;
}

function origin(at: Origin, path: string): { file: string; document: number; line?: number } {
  const line = at.locate?.(path);
  return { file: at.file, document: at.document, ...(line !== undefined ? { line } : {}) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readResource(value: unknown, at: Origin, order: number, options: ParseOptions, problems: PolicyProblem[]): PolicyResource | undefined {
  const problem = (path: string, message: string, severity: 'error' | 'warning' = 'error', resource?: string, code?: string) =>
    problems.push({ ...origin(at, path), path, message, severity, ...(resource ? { resource } : {}), ...(code ? { code } : {}) });
  if (!isObject(value)) return void problem('', 'a policy document must be a mapping');
  const { apiVersion, kind } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return void problem('', 'a policy document needs apiVersion and kind');
  const istio = (ISTIO_API_VERSIONS as readonly string[]).includes(apiVersion);
  const native = apiVersion === NATIVE_API_VERSION;
  if (!istio && !native) {
    if (apiVersion.startsWith('security.istio.io/')) return void problem('apiVersion', `unsupported version "${apiVersion}" (use security.istio.io/v1 or v1beta1)`);
    return void problem('', `${kind} (${apiVersion}) is not a security policy; ignored`, 'warning');
  }
  if ((istio && !ISTIO_KINDS.has(kind)) || (native && !NATIVE_KINDS.has(kind))) {
    return void problem('kind', `unknown kind "${kind}" for ${apiVersion} (expected ${[...(istio ? ISTIO_KINDS : NATIVE_KINDS)].join(', ')})`);
  }
  for (const key of Object.keys(value)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key)) problem(key, `unknown key "${key}"`);
  }
  const metadata = metadataSchema.safeParse(value.metadata);
  if (!metadata.success) return void reportZod(metadata.error, 'metadata', problem);
  const namespace = metadata.data.namespace ?? (native ? options.rootNamespace : 'default');
  const label = `${kind} ${namespace}/${metadata.data.name}`;
  const schema = SPEC_SCHEMAS[kind as keyof typeof SPEC_SCHEMAS];
  const spec = schema.safeParse(value.spec ?? {});
  if (!spec.success) return void reportZod(spec.error, 'spec', (path, message) => problem(path, message, 'error', label));
  const created = metadata.data.creationTimestamp;
  const createdAt = created === undefined ? undefined : new Date(created).getTime();
  const resource = {
    kind,
    name: metadata.data.name,
    namespace,
    ...at,
    order,
    ...(createdAt !== undefined && Number.isFinite(createdAt) ? { createdAt } : {}),
    annotations: metadata.data.annotations ?? {},
    spec: spec.data,
  } as PolicyResource;
  for (const found of validateResource(resource)) problem(found.path, found.message, found.severity, label, found.code);
  return resource;
}

function reportZod(error: z.ZodError, prefix: string, problem: (path: string, message: string) => void): void {
  for (const issue of error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      const path = formatPath([prefix, ...issue.path, ...(key === undefined ? [] : [key])]);
      problem(path, key === undefined ? issue.message : `unknown key "${key}"`);
    }
  }
}
