/**
 * The client certificate of a request to this issuer (src/http/client-certificate.ts says where it
 * may come from), read at most once per request. The reader is built once per issuer; buildIssuer
 * builds it at start so a web.tlsClientCA that does not load stops the start, not a request.
 */
import type { Context } from 'koa';
import { createClientCertificateReader, type ClientCertificate, type ClientCertificateReader } from '../http/client-certificate.js';
import type { IssuerContext } from './context.js';

const readers = new WeakMap<IssuerContext, ClientCertificateReader>();

export function clientCertificateReader(ctx: IssuerContext): ClientCertificateReader {
  let reader = readers.get(ctx);
  if (!reader) readers.set(ctx, (reader = createClientCertificateReader(ctx.config, ctx.now)));
  return reader;
}

/** The request's client certificate, or undefined when it has none that may be believed. */
export function requestCertificate(ctx: IssuerContext, koaCtx: Context): ClientCertificate | undefined {
  const state = koaCtx.state as { clientCertificate?: ClientCertificate | null };
  if (state.clientCertificate === undefined) state.clientCertificate = clientCertificateReader(ctx)(koaCtx) ?? null;
  return state.clientCertificate ?? undefined;
}
