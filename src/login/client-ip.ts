/**
 * The client's IP for login throttling and the audit stream: the socket's address, or — only when the
 * socket is a trusted proxy (web.clientRemoteIP.trustedProxies: addresses or CIDRs) — the right-most
 * address in the configured header (web.clientRemoteIP.header, e.g. X-Forwarded-For) that is not
 * itself a trusted proxy. Everything left of that hop was written by the client, so it is never believed.
 */
import { BlockList, isIP } from 'node:net';
import type { Context } from 'koa';
import type { Config } from '../config/load.js';

export type ClientIPReader = (ctx: Context) => string;

const family = (ip: string): 'ipv4' | 'ipv6' => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');
const unmapped = (ip: string): string => (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip);

export function clientIPReader(config: Config): ClientIPReader {
  const remote = config.web.clientRemoteIP;
  const header = remote?.header;
  const trusted = new BlockList();
  for (const entry of remote?.trustedProxies ?? []) {
    const [address, prefix] = entry.split('/');
    if (!address || !isIP(address)) continue;
    if (prefix === undefined) trusted.addAddress(address, family(address));
    else trusted.addSubnet(address, Number(prefix), family(address));
  }
  return (ctx) => {
    const socketIP = unmapped(ctx.req.socket.remoteAddress ?? 'unknown');
    if (!header || !isIP(socketIP) || !trusted.check(socketIP, family(socketIP))) return socketIP;
    const hops = ctx.get(header).split(',');
    let client = socketIP;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = unmapped(hops[i]!.trim());
      // Not an address: the chain is not one our proxies wrote, so nothing left of it counts.
      if (!isIP(hop)) break;
      client = hop;
      if (!trusted.check(hop, family(hop))) break;
    }
    return client;
  };
}
