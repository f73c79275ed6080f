/**
 * Reads policy files and directories: YAML with several documents per file (and `kind: List`), keeps
 * the security.istio.io and idgate.dev resources, checks each against its schema and Istio's validation
 * rules, and returns them with every problem found (file, document, field path, message).
 */
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
}

const ISTIO_KINDS = new Set(['AuthorizationPolicy', 'RequestAuthentication', 'PeerAuthentication']);
const NATIVE_KINDS = new Set(['Role', 'RoleBinding']);

/** Expands files and directories (recursively, *.yaml / *.yml / *.json, sorted) into files. */
export async function listPolicyFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const info = await stat(path);
    if (info.isDirectory()) {
      const entries = (await readdir(path)).sort();
      const nested = entries.map((entry) => join(path, entry));
      const files: string[] = [];
      for (const entry of nested) {
        const entryInfo = await stat(entry);
        if (entryInfo.isDirectory()) files.push(...(await listPolicyFiles([entry])));
        else if (/\.(ya?ml|json)$/.test(entry)) files.push(entry);
      }
      out.push(...files);
    } else {
      out.push(path);
    }
  }
  return out;
}

export async function loadPolicyFiles(paths: readonly string[], options: { rootNamespace: string }): Promise<LoadedPolicies> {
  const problems: PolicyProblem[] = [];
  let files: string[] = [];
  try {
    files = await listPolicyFiles(paths);
  } catch (error) {
    problems.push({ file: String((error as NodeJS.ErrnoException).path ?? paths.join(',')), document: 0, path: '', message: `cannot read: ${(error as Error).message}`, severity: 'error' });
    return { resources: [], problems, files };
  }
  const texts: Array<{ file: string; text: string }> = [];
  for (const file of files) {
    try {
      texts.push({ file, text: await readFile(file, 'utf8') });
    } catch (error) {
      problems.push({ file, document: 0, path: '', message: `cannot read: ${(error as Error).message}`, severity: 'error' });
    }
  }
  const parsed = parsePolicyTexts(texts, options);
  return { resources: parsed.resources, problems: [...problems, ...parsed.problems], files };
}

/** Parses already-read policy texts (the loader and tests share this). */
export function parsePolicyTexts(texts: ReadonlyArray<{ file: string; text: string }>, options: { rootNamespace: string }): Omit<LoadedPolicies, 'files'> {
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
