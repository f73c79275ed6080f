/**
 * Dex's `grpc:` (its management API, admin/api/). The API changes clients, passwords and connectors
 * and has no authentication of its own but the client certificate, so off loopback it must be mutual
 * TLS; on loopback Dex's plain or server-only TLS setups are kept.
 */
import { z } from 'zod';
import { isLoopbackAddress, listenAddress, tlsVersion } from './listener.js';

export const grpcSchema = z
  .strictObject({
    addr: listenAddress,
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    tlsClientCA: z.string().min(1).optional(),
    tlsMinVersion: tlsVersion.optional(),
    tlsMaxVersion: tlsVersion.optional(),
    reflection: z.boolean().default(false),
  })
  .superRefine((grpc, ctx) => {
    if (grpc.tlsCert && !grpc.tlsKey) ctx.addIssue({ code: 'custom', path: ['tlsKey'], message: 'is required with tlsCert' });
    if (grpc.tlsKey && !grpc.tlsCert) ctx.addIssue({ code: 'custom', path: ['tlsCert'], message: 'is required with tlsKey' });
    for (const key of ['tlsClientCA', 'tlsMinVersion', 'tlsMaxVersion'] as const) {
      if (grpc[key] && !grpc.tlsCert) ctx.addIssue({ code: 'custom', path: [key], message: 'needs tlsCert and tlsKey (TLS on the API listener)' });
    }
    if (grpc.tlsMinVersion && grpc.tlsMaxVersion && grpc.tlsMinVersion > grpc.tlsMaxVersion) {
      ctx.addIssue({ code: 'custom', path: ['tlsMaxVersion'], message: `is lower than tlsMinVersion (${grpc.tlsMinVersion})` });
    }
    if (!isLoopbackAddress(grpc.addr) && !(grpc.tlsCert && grpc.tlsKey && grpc.tlsClientCA)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tlsClientCA'],
        message: `the management API on ${grpc.addr} (not a loopback address) needs mutual TLS: set tlsCert, tlsKey and tlsClientCA, or listen on 127.0.0.1 (docs/admin-api.md)`,
      });
    }
  });
