/**
 * The API listener's transport security from Dex's `grpc:` keys: plain (loopback only, as the schema
 * enforces), server TLS, or mutual TLS (tlsClientCA: a client that sends no certificate, or one that
 * CA did not sign, fails the handshake and never reaches a handler). grpc-js's createSsl cannot set
 * TLS versions, so the credentials are built from its public ServerCredentials constructor with
 * Node's TLS options. The files are re-read when they change (Dex's TLS reloader), so a renewed
 * certificate or CA is used by the next connection without a restart; a half-written set is kept
 * out until it loads.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { TLS_VERSIONS, type ParsedConfig } from '../../config/schema.js';
import { parseCertificateBundle } from '../../http/client-certificate.js';

export type GrpcConfig = NonNullable<ParsedConfig['grpc']>;

/** How often the certificate files are checked for a change. */
const WATCH_INTERVAL_MS = 5_000;

/**
 * Throws unless `pem` holds at least one certificate and nothing else that fails to parse. Node takes
 * a CA file without a single certificate in it silently, and would then refuse every client.
 */
export function checkCertificateBundle(pem: Buffer): void {
  parseCertificateBundle(pem);
}

function readFiles(config: GrpcConfig): SecureContextOptions {
  const context: SecureContextOptions = { cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) };
  if (config.tlsClientCA) {
    context.ca = readFileSync(config.tlsClientCA);
    checkCertificateBundle(context.ca);
  }
  createSecureContext(context); // throws on a key that does not match its certificate, or a file that is not PEM
  return context;
}

class ReloadingTlsCredentials extends ServerCredentials {
  constructor(
    private readonly config: GrpcConfig,
    private readonly logger: Logger,
  ) {
    super(
      {
        requestCert: config.tlsClientCA !== undefined,
        rejectUnauthorized: true,
        minVersion: TLS_VERSIONS[config.tlsMinVersion ?? '1.2'],
        maxVersion: TLS_VERSIONS[config.tlsMaxVersion ?? '1.3'],
      },
      readFiles(config),
    );
  }

  /** Starts watching the files; returns how to stop. */
  watch(): () => void {
    const files = [this.config.tlsCert!, this.config.tlsKey!, ...(this.config.tlsClientCA ? [this.config.tlsClientCA] : [])];
    const reload = () => {
      try {
        this.updateSecureContextOptions(readFiles(this.config));
        this.logger.info({ files }, 'management API: TLS files changed; reloaded');
      } catch (error) {
        this.logger.warn({ files, err: (error as Error).message }, 'management API: TLS files changed but do not load; keeping the previous ones');
      }
    };
    for (const file of files) watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, reload);
    return () => files.forEach((file) => unwatchFile(file, reload));
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/** The listener's credentials and how to stop watching their files. Throws if a file does not load. */
export function apiCredentials(config: GrpcConfig, logger: Logger): { credentials: ServerCredentials; stop(): void } {
  if (!config.tlsCert) return { credentials: ServerCredentials.createInsecure(), stop: () => undefined };
  const credentials = new ReloadingTlsCredentials(config, logger);
  return { credentials, stop: credentials.watch() };
}
