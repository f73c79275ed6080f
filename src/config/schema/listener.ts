/**
 * What every listener in the config is given: a `host:port` address to listen on and, for those that
 * speak TLS, the protocol versions (web, grpc and telemetry share these).
 */
import { z } from 'zod';

const LISTEN_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[^:\s]*):(\d{1,5})$/;
export const listenAddress = z
  .string()
  .regex(LISTEN_ADDRESS, { message: 'not a listen address (use host:port, e.g. 127.0.0.1:5556)' })
  // Only an address of the right shape has a port to check; the regex reports the others.
  .refine((value) => Number(LISTEN_ADDRESS.exec(value)?.[2] ?? 0) <= 65535, { message: 'port out of range (0-65535)' });

/** True for an address only this host can reach (127.0.0.0/8, [::1], localhost); ":5557" listens everywhere. */
export function isLoopbackAddress(address: string): boolean {
  const host = LISTEN_ADDRESS.exec(address)?.[1] ?? '';
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Dex's web.tlsMinVersion / tlsMaxVersion values, as Node's tls names them. */
export const TLS_VERSIONS = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' } as const;
export const tlsVersion = z.enum(['1.2', '1.3']);
