/**
 * Reads the YAML config, expands `$VAR` / `${VAR}` as Dex does, validates it once (zod, including
 * each connector's own config schema) and resolves env-backed values, so the core gets a typed
 * `Config` and never re-parses anything.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, visit, type Document, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { connectorFactory, connectorTypes } from '../connector.js';
import type { ClientMetadata } from '../storage/storage.js';
import '../../connectors/index.js';
import { consoleClient, type ConsoleConfig } from '../admin/console/config.js';
import { resolveSignInSecrets } from '../authz/signin/config.js';
import { clientClaimRules, CONNECTOR_CLAIM_KEYS, connectorClaimRules, type ClientClaimRules, type ConnectorClaimRules } from '../claims/config.js';
import { clientSecretJwtProblem } from './client-auth.js';
import { ConfigError, formatPath, type ConfigProblem } from './errors.js';
import { grantProblems } from './grants.js';
import { bcryptHashOf, CLIENT_METADATA_KEYS, configSchema, type ParsedConfig } from './schema.js';
import { durationRangeProblem, parseDuration } from './duration.js';
import { describeInput, expectedAt } from './expected.js';
import { knownKeysAt, suggest } from './suggest.js';

export interface StaticClientConfig extends ClientMetadata {
  id: string;
  secret: string | null;
  redirectURIs: string[];
  trustedPeers: string[];
  public: boolean;
  name: string;
  logoURL?: string;
  allowedConnectors?: string[];
  requirePKCE?: boolean;
  /** Its compiled `claims` and `userValidationRules` (docs/claims.md). */
  claimRules?: ClientClaimRules;
}

export interface StaticPasswordConfig {
  email: string;
  hash: string;
  username: string;
  userID: string;
  groups?: string[];
  preferredUsername?: string;
  emailVerified?: boolean;
}

export interface ConnectorConfig {
  type: string;
  id: string;
  name: string;
  /** Parsed by the connector type's own schema. */
  config: unknown;
  grantTypes?: string[];
  /** Its compiled claimMappings, claimValidationRules and userValidationRules (docs/claims.md). */
  claimRules?: ConnectorClaimRules;
  /** Authenticators its logins must pass (mfa.authenticators ids; sessions/mfa/policy.ts). */
  mfaChain?: string[];
}

export type Config = Omit<ParsedConfig, 'staticClients' | 'staticPasswords' | 'connectors'> & {
  staticClients: StaticClientConfig[];
  staticPasswords: StaticPasswordConfig[];
  connectors: ConnectorConfig[];
  /** Signing key rotation period in ms (signer.config.keysRotationPeriod, else expiry.signingKeys, else 6h). */
  keysRotationPeriod: number;
  /** The file it came from, for messages. */
  source: string;
};

/** The RFC 7591 metadata keys of a static client, only those it sets (absent keys keep their defaults). */
export function clientMetadataOf(client: ClientMetadata): ClientMetadata {
  const metadata: ClientMetadata = {};
  for (const key of CLIENT_METADATA_KEYS) {
    if (client[key] !== undefined) (metadata as Record<string, unknown>)[key] = client[key];
  }
  return metadata;
}

type Locate = (path: PropertyKey[]) => number | undefined;

export type Env = Record<string, string | undefined>;

/** Dex expands only inside these sections (os.ExpandEnv over their config maps). */
const EXPANDED_SECTIONS = ['storage', 'signer', 'connectors'];

export async function loadConfigFile(file: string, env: Env = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new ConfigError(file, [{ path: '', message: reason }]);
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, source = 'config', env: Env = process.env): Config {
  const lines = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const lineOf = locator(document, lines);
  if (document.errors.length > 0) {
    throw new ConfigError(source, document.errors.map((error) => yamlProblem(document, lines, error)));
  }
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    throw new ConfigError(source, [{ path: '', message: `YAML: ${aliasMessage(error)}`, line: firstAliasLine(document, lines) }]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: '', message: 'the file must be a YAML mapping (issuer, storage, web, ...)' }]);
  }
  if (env.DEX_EXPAND_ENV !== 'false' && env.IDGATE_EXPAND_ENV !== 'false') {
    for (const section of EXPANDED_SECTIONS) {
      const record = raw as Record<string, unknown>;
      if (section in record) record[section] = section === 'connectors' ? expandConnectors(record[section], env) : expandEnv(record[section], env);
    }
  }

  // reportInput: a wrong type and a missing key differ only in the input (describeIssue).
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(source, issuesToProblems(parsed.error.issues, [], lineOf));

  const problems: ConfigProblem[] = [];
  const connectors = parsed.data.connectors.map((parsedEntry, index): ConnectorConfig => {
    const { claimMappings, claimValidationRules, userValidationRules, ...entry } = parsedEntry;
    const claimRules = connectorClaimRules({ claimMappings, claimValidationRules, userValidationRules });
    const connector = { ...entry, ...(claimRules ? { claimRules } : {}) };
    const factory = connectorFactory(connector.type);
    if (!factory) {
      const hint = suggest(connector.type, connectorTypes());
      problems.push({
        path: `connectors[${index}].type`,
        message: `unknown connector type "${connector.type}"${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${connectorTypes().join(', ')}`,
        line: lineOf(['connectors', index, 'type']),
      });
      return { ...connector, config: undefined };
    }
    const result = factory.configSchema.safeParse(connector.config ?? {}, { reportInput: true });
    if (!result.success) {
      problems.push(...issuesToProblems(result.error.issues, ['connectors', index, 'config'], lineOf, factory.configSchema));
      return { ...connector, config: undefined };
    }
    return { ...connector, config: result.data };
  });

  const staticClients = parsed.data.staticClients.map((client, index): StaticClientConfig => {
    const at = (key: string) => `staticClients[${index}].${key}`;
    const id = client.id ?? readEnv(env, client.idEnv, at('idEnv'), problems);
    const secret = client.public ? null : (client.secret ?? readEnv(env, client.secretEnv, at('secretEnv'), problems));
    const secretKey = client.secret ? 'secret' : 'secretEnv';
    const weakSecret = client.tokenEndpointAuthMethod === 'client_secret_jwt' && secret ? clientSecretJwtProblem(secret) : undefined;
    if (weakSecret) problems.push({ path: at(secretKey), message: weakSecret, line: lineOf(['staticClients', index, secretKey]) });
    const claimRules = clientClaimRules(client);
    return {
      id: id ?? '',
      secret: secret ?? null,
      redirectURIs: client.redirectURIs,
      trustedPeers: client.trustedPeers,
      public: client.public,
      name: client.name ?? id ?? '',
      logoURL: client.logoURL,
      allowedConnectors: client.allowedConnectors,
      requirePKCE: client.requirePKCE,
      ...clientMetadataOf(client),
      ...(claimRules ? { claimRules } : {}),
    };
  });
  const consoleSection = parsed.data.console && resolveConsole(parsed.data.console, staticClients, env, problems, lineOf);
  const clientIds = new Set<string>();
  staticClients.forEach((client, index) => {
    if (client.id && clientIds.has(client.id)) problems.push({ path: `staticClients[${index}].id`, message: `duplicate client id "${client.id}"` });
    clientIds.add(client.id);
  });

  const staticPasswords = parsed.data.staticPasswords.map((entry, index): StaticPasswordConfig => {
    const fromEnv = entry.hash === undefined ? readEnv(env, entry.hashFromEnv, `staticPasswords[${index}].hashFromEnv`, problems) : undefined;
    const hash = bcryptHashOf(entry.hash ?? fromEnv ?? '');
    if (hash === undefined && fromEnv) {
      problems.push({ path: `staticPasswords[${index}].hashFromEnv`, message: `environment variable ${entry.hashFromEnv} does not hold a bcrypt hash (nor the base64 of one)` });
    }
    return { ...entry, email: entry.email.toLowerCase(), hash: hash ?? '' };
  });

  const rotationText = parsed.data.signer.config.keysRotationPeriod ?? parsed.data.expiry.signingKeys ?? '6h';
  const rotationParsed = parseDuration(rotationText);
  const rotationProblem = rotationParsed === undefined
    ? `"${rotationText}" is not a duration (use e.g. "6h")`
    : durationRangeProblem(rotationText, rotationParsed, true);
  const keysRotationPeriod = rotationProblem ? undefined : rotationParsed;
  if (rotationProblem) {
    const path = parsed.data.signer.config.keysRotationPeriod ? ['signer', 'config', 'keysRotationPeriod'] : ['expiry', 'signingKeys'];
    problems.push({ path: formatPath(path), message: rotationProblem, line: lineOf(path) });
  }
  problems.push(...grantProblems(parsed.data, connectors, lineOf));
  const signIn = parsed.data.filter?.signIn && resolveSignInSecrets(parsed.data.filter.signIn, env, (path, message) => problems.push({ path, message, line: lineOf(path.split('.')) }));

  if (problems.length > 0) throw new ConfigError(source, problems);
  return {
    ...parsed.data,
    staticClients,
    staticPasswords,
    connectors,
    console: consoleSection,
    ...(parsed.data.filter && signIn ? { filter: { ...parsed.data.filter, signIn } } : {}),
    keysRotationPeriod: keysRotationPeriod ?? 6 * 3_600_000,
    source,
  };
}

/** Enough for any real config's anchors; a "billion laughs" file needs far more. */
const MAX_ALIAS_COUNT = 100;

/** A YAML syntax error with its line, naming the key for a duplicate (`web.http: YAML: ...`). */
function yamlProblem(document: Document, lines: LineCounter, error: YAMLError): ConfigProblem {
  const line = lines.linePos(error.pos[0]).line;
  const message = `YAML: ${error.message.split('\n')[0]}`;
  if (error.code !== 'DUPLICATE_KEY') return { path: '', message, line };
  return { path: pathOfKeyAt(document, error.pos[0]) ?? '', message: 'YAML: duplicate key (a key may appear only once in a mapping)', line };
}

/** The config path of the mapping key that starts at `offset`. */
function pathOfKeyAt(document: Document, offset: number): string | undefined {
  let found: string | undefined;
  visit(document, {
    Pair(_, pair, ancestors) {
      const range = (pair.key as { range?: [number, number, number] } | null)?.range;
      if (!range || range[0] !== offset || !isScalar(pair.key)) return undefined;
      const path: PropertyKey[] = [];
      ancestors.forEach((node, index) => {
        if (isPair(node) && isScalar(node.key)) path.push(String(node.key.value));
        const next = ancestors[index + 1];
        if (isSeq(node) && next) path.push(node.items.indexOf(next as never));
      });
      const last = ancestors[ancestors.length - 1];
      if (isSeq(last)) path.push(last.items.indexOf(pair as never));
      found = formatPath([...path, String(pair.key.value)]);
      return visit.BREAK;
    },
  });
  return found;
}

function aliasMessage(error: ReferenceError): string {
  return /alias count/i.test(error.message)
    ? `more than ${MAX_ALIAS_COUNT} aliases are expanded (an alias bomb?); write the values out instead`
    : error.message;
}

function firstAliasLine(document: Document, lines: LineCounter): number | undefined {
  let line: number | undefined;
  visit(document, {
    Alias(_, node) {
      if (isAlias(node) && node.range) line = lines.linePos(node.range[0]).line;
      return visit.BREAK;
    },
  });
  return line;
}

/** The console's secret from the environment when so configured, and its client registered beside the static ones. */
function resolveConsole(section: ConsoleConfig, staticClients: StaticClientConfig[], env: Env, problems: ConfigProblem[], lineOf: Locate): ConsoleConfig {
  const secret = section.clientSecret ?? readEnv(env, section.clientSecretEnv, 'console.clientSecretEnv', problems);
  if (secret !== undefined && secret !== '' && secret.length < 16) {
    problems.push({ path: 'console.clientSecretEnv', message: `environment variable ${section.clientSecretEnv} must hold at least 16 characters`, line: lineOf(['console', 'clientSecretEnv']) });
  }
  if (staticClients.some((client) => client.id === section.clientID)) {
    problems.push({ path: 'console.clientID', message: `staticClients has a client "${section.clientID}" already; the console registers its own client: choose another clientID`, line: lineOf(['console', 'clientID']) });
  } else if (secret) {
    staticClients.push(consoleClient(section, secret));
  }
  return { ...section, clientSecret: secret };
}

function readEnv(env: Env, name: string | undefined, path: string, problems: ConfigProblem[]): string | undefined {
  if (!name) return undefined;
  const value = env[name];
  if (value === undefined || value === '') problems.push({ path, message: `environment variable ${name} is not set` });
  return value;
}

/** Each connector entry expanded but for its claim expressions: CEL, where `$` anchors a pattern (docs/claims.md). */
function expandConnectors(value: unknown, env: Env): unknown {
  if (!Array.isArray(value)) return expandEnv(value, env);
  return value.map((entry: unknown) => {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return expandEnv(entry, env);
    return Object.fromEntries(Object.entries(entry).map(([key, item]) => [key, key in CONNECTOR_CLAIM_KEYS ? item : expandEnv(item, env)]));
  });
}

/** `$VAR` and `${VAR}` in every string; an unset variable expands to "" as in Go's os.ExpandEnv. */
export function expandEnv(value: unknown, env: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, braced, bare) => env[braced ?? bare] ?? '');
  }
  if (Array.isArray(value)) return value.map((item) => expandEnv(item, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandEnv(item, env)]));
  }
  return value;
}

function issuesToProblems(
  issues: z.core.$ZodIssue[],
  prefix: PropertyKey[],
  lineOf: Locate,
  schema: z.ZodType = configSchema,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const hint = suggest(key, known);
        problems.push({
          path: formatPath([...path, key]),
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : known.length ? ` (expected one of: ${known.join(', ')})` : ''}`,
          line: lineOf([...path, key]),
        });
      }
      continue;
    }
    problems.push({ path: formatPath(path), message: describeIssue(issue, schema), line: lineOf(path) });
  }
  return problems;
}

/** zod's own wording starts so; messages written in our schemas are kept as they are. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (small|big))\b/;

/** An issue as the operator reads it: what was expected and what was written, never zod's wording. */
function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType): string {
  const options = (issue as { options?: unknown[] }).options;
  if (issue.code === 'invalid_union' && Array.isArray(options)) {
    return `unknown value (expected one of: ${options.map(String).join(', ')})`;
  }
  if (issue.code === 'invalid_value') {
    if (issue.values.length === 1) return `must be ${JSON.stringify(issue.values[0])}`;
    return `unknown value (expected one of: ${issue.values.map(String).join(', ')})`;
  }
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
    if (issue.input === undefined) return 'is required';
    const expected = expectedAt(schema, issue.path) ?? (issue.code === 'invalid_type' ? `a ${issue.expected}` : undefined);
    if (expected) return `expected ${expected}, got ${describeInput(issue.input)}`;
  }
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  if (issue.code === 'too_small' || issue.code === 'too_big') return describeBound(issue);
  if (issue.code === 'invalid_format') return `not a valid ${issue.format === 'regex' ? 'value' : issue.format}`;
  return issue.message;
}

function describeBound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
  const least = issue.code === 'too_small';
  if (issue.origin === 'string' && least && bound === 1) return 'must not be empty';
  const what = issue.origin === 'string' ? ` characters` : issue.origin === 'array' || issue.origin === 'set' ? ` entries` : '';
  const relation = issue.inclusive === false ? (least ? 'more than' : 'less than') : (least ? 'at least' : 'at most');
  return `must be ${relation} ${bound}${what}`;
}

/** Finds where a config path is written: the key's line when it exists, else its nearest parent's. */
export function locator(document: Document, lines: LineCounter): Locate {
  return (path) => {
    for (let length = path.length; length > 0; length--) {
      const parentPath = path.slice(0, length - 1) as Array<string | number>;
      const key = path[length - 1];
      const parent = parentPath.length ? document.getIn(parentPath, true) : document.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key);
        const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
        if (range) return lines.linePos(range[0]).line;
      } else if (isSeq(parent) && typeof key === 'number') {
        const range = (parent.items[key] as { range?: [number, number, number] } | undefined)?.range;
        if (range) return lines.linePos(range[0]).line;
      }
    }
    return undefined;
  };
}
