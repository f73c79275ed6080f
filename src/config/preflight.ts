/**
 * What `idgate check` adds to validation: it opens what `serve` would open — the web TLS key pair and client CA, the
 * management API's TLS files (grpc:), the PostgreSQL TLS files, and every connector (through its
 * factory, so a bad caData or an unreadable file fails here rather than being dropped at start) — and
 * names the file, key and line of each problem. Nothing listens and no storage is touched.
 */
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { LineCounter, parseDocument } from 'yaml';
import { pino } from 'pino';
import { checkCertificateBundle } from '../admin/api/credentials.js';
import { connectorFactory, type ConnectorStore } from '../connector.js';
import { loadSealingKeys } from '../storage/sealing.js';
import { formatPath, type ConfigProblem } from './errors.js';
import { locator, type Config } from './load.js';

type Path = Array<string | number>;

/** Problems found by opening the config's files and connectors; [] when all open. */
export async function preflightConfig(config: Config, options: { connectors?: boolean } = {}): Promise<ConfigProblem[]> {
  const lineOf = await lineLocator(config.source);
  const problems: ConfigProblem[] = [];
  const report = (path: Path, message: string) => problems.push({ path: formatPath(path), message, line: lineOf(path) });

  const { tlsCert, tlsKey } = config.web;
  if (config.web.https && tlsCert && tlsKey) {
    const cert = await readOrReport(tlsCert, ['web', 'tlsCert'], report);
    const key = await readOrReport(tlsKey, ['web', 'tlsKey'], report);
    if (cert && key) {
      try {
        createSecureContext({ cert, key });
      } catch (error) {
        report(['web', 'tlsCert'], `${tlsCert} and ${tlsKey} are not a usable certificate and key (${(error as Error).message})`);
      }
    }
  }
  if (config.web.tlsClientCA) {
    const ca = await readOrReport(config.web.tlsClientCA, ['web', 'tlsClientCA'], report);
    if (ca) {
      try {
        checkCertificateBundle(ca);
      } catch (error) {
        report(['web', 'tlsClientCA'], `${config.web.tlsClientCA}: not a CA certificate bundle (${(error as Error).message})`);
      }
    }
  }
  if (config.grpc?.tlsCert && config.grpc.tlsKey) {
    const { tlsCert: certFile, tlsKey: keyFile, tlsClientCA: caFile } = config.grpc;
    const cert = await readOrReport(certFile, ['grpc', 'tlsCert'], report);
    const key = await readOrReport(keyFile, ['grpc', 'tlsKey'], report);
    const ca = caFile ? await readOrReport(caFile, ['grpc', 'tlsClientCA'], report) : undefined;
    if (ca) {
      try {
        checkCertificateBundle(ca);
      } catch (error) {
        report(['grpc', 'tlsClientCA'], `${caFile}: not a CA certificate bundle (${(error as Error).message})`);
      }
    }
    if (cert && key) {
      try {
        createSecureContext({ cert, key });
      } catch (error) {
        report(['grpc', 'tlsCert'], `${certFile} and ${keyFile} are not a usable certificate and key (${(error as Error).message})`);
      }
    }
  }
  if (config.storage.type === 'postgres') {
    const ssl = config.storage.config.ssl;
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
      const file = ssl?.[key];
      if (file) await readOrReport(file, ['storage', 'config', 'ssl', key], report);
    }
  }
  config.storage.sealing?.keys.forEach((key, index) => {
    try {
      loadSealingKeys([key]);
    } catch (error) {
      report(['storage', 'sealing', 'keys', index, key.keyFile ? 'keyFile' : 'keyEnv'], (error as Error).message.replace(/^storage\.sealing\.keys\[0\] \([^)]*\)(\.\w+)?: /, ''));
    }
  });
  if (options.connectors ?? true) await openEachConnector(config, report);
  return problems;
}

async function readOrReport(file: string, path: Path, report: (path: Path, message: string) => void): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    report(path, code === 'ENOENT' ? `${file}: file not found` : `${file}: cannot be read (${(error as Error).message})`);
    return undefined;
  }
}

/** Opens and closes each connector with a store that holds nothing: opening must not need storage. */
async function openEachConnector(config: Config, report: (path: Path, message: string) => void): Promise<void> {
  const store: ConnectorStore = {
    saveRequest: async () => undefined,
    takeRequest: async () => undefined,
    markUsed: async () => true,
  };
  const logger = pino({ level: 'silent' });
  for (const [index, entry] of config.connectors.entries()) {
    const factory = connectorFactory(entry.type);
    if (!factory) continue; // reported by the loader
    try {
      const connector = await factory.open(entry.config, {
        id: entry.id,
        name: entry.name,
        issuer: config.issuer.replace(/\/+$/, ''),
        logger,
        store,
        now: Date.now,
      });
      await connector.close?.();
    } catch (error) {
      report(['connectors', index, 'config'], `connector "${entry.id}" cannot open: ${(error as Error).message}`);
    }
  }
}

/** Lines of config paths in `file`; a config parsed from text (no file) has none. */
async function lineLocator(file: string): Promise<(path: Path) => number | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return () => undefined;
  }
  const lines = new LineCounter();
  return locator(parseDocument(text, { lineCounter: lines }), lines);
}
