/**
 * Reads policy files and directories: YAML with several documents per file (and `kind: List`), keeps
 * the security.istio.io and idgate.dev resources, checks each against its schema and Istio's validation
 * rules, and returns them with every problem found (file, document, field path, message).
 */
import type { BigIntStats } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../../config/errors.js';
import type { PolicyProblem } from '../errors.js';
import { ISTIO_API_VERSIONS, NATIVE_API_VERSION, SPEC_SCHEMAS, metadataSchema, type PolicyResource } from './resources.js';
import { validateResource, validateResourceSet } from './validate.js';

export interface LoadedPolicies {
  resources: PolicyResource[];
  problems: PolicyProblem[];
  files: string[];
  /** What the files looked like before they were read (see policyFingerprint). */
  fingerprint: string;
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

export async function loadPolicyFiles(paths: readonly string[], options: { rootNamespace: string }): Promise<LoadedPolicies> {
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
  return { resources: parsed.resources, problems: [...problems, ...parsed.problems], files, fingerprint };
}

/** Parses already-read policy texts (the loader and tests share this). */
export function parsePolicyTexts(texts: ReadonlyArray<{ file: string; text: string }>, options: { rootNamespace: string }): Pick<LoadedPolicies, 'resources' | 'problems'> {
  const resources: PolicyResource[] = [];
  const problems: PolicyProblem[] = [];
  for (const { file, text } of texts) {
    const documents = parseAllDocuments(text);
    const list = Array.isArray(documents) ? documents : [documents];
    list.forEach((doc, index) => {
      if (doc.errors.length > 0) {
        problems.push({ file, document: index, path: '', message: `YAML: ${doc.errors[0]!.message}`, severity: 'error' });
        return;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return;
      const items = isObject(value) && value.kind === 'List' && Array.isArray(value.items) ? (value.items as unknown[]) : [value];
      for (const item of items) {
        const resource = readResource(item, file, index, resources.length, options, problems);
        if (resource) resources.push(resource);
      }
    });
  }
  problems.push(...validateResourceSet(resources));
  return { resources, problems };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readResource(
  value: unknown,
  file: string,
  document: number,
  order: number,
  options: { rootNamespace: string },
  problems: PolicyProblem[],
): PolicyResource | undefined {
  const problem = (path: string, message: string, severity: 'error' | 'warning' = 'error', resource?: string) =>
    problems.push({ file, document, path, message, severity, ...(resource ? { resource } : {}) });
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
    file,
    document,
    order,
    ...(createdAt !== undefined && Number.isFinite(createdAt) ? { createdAt } : {}),
    annotations: metadata.data.annotations ?? {},
    spec: spec.data,
  } as PolicyResource;
  for (const found of validateResource(resource)) problem(found.path, found.message, found.severity, label);
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
