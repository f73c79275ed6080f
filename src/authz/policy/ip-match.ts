/**
 * IP addresses and CIDR blocks (ipBlocks, remoteIpBlocks, source.ip, destination.ip), IPv4 and IPv6,
 * parsed once into bigint ranges so a request costs one parse of its address.
 */
import { isIP } from 'node:net';

interface Block {
  version: 4 | 6;
  network: bigint;
  mask: bigint;
}

function parseIPv4(address: string): bigint | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let out = 0n;
  for (const part of parts) {
    const n = Number(part);
    if (!/^\d{1,3}$/.test(part) || n > 255) return undefined;
    out = (out << 8n) | BigInt(n);
  }
  return out;
}

function parseIPv6(address: string): bigint | undefined {
  let text = address;
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  const tailV4 = text.slice(lastColon + 1).includes('.') ? parseIPv4(text.slice(lastColon + 1)) : undefined;
  if (tailV4 !== undefined) text = `${text.slice(0, lastColon + 1)}${(tailV4 >> 16n).toString(16)}:${(tailV4 & 0xffffn).toString(16)}`;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - left.length - right.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...right];
  let out = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    out = (out << 16n) | BigInt(parseInt(group, 16));
  }
  return out;
}

/** An address as (version, value); IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4. */
export function parseAddress(address: string): { version: 4 | 6; value: bigint } | undefined {
  const kind = isIP(address);
  if (kind === 4) return { version: 4, value: parseIPv4(address)! };
  if (kind === 6) {
    const value = parseIPv6(address);
    if (value === undefined) return undefined;
    if (value >> 32n === 0xffffn) return { version: 4, value: value & 0xffffffffn };
    return { version: 6, value };
  }
  return undefined;
}

/** Parses "10.0.0.0/8", "10.1.2.3", "2001:db8::/32"; undefined when invalid. */
export function parseBlock(text: string): Block | undefined {
  const [address, prefixText, extra] = text.split('/');
  if (extra !== undefined || !address) return undefined;
  const parsed = parseAddress(address);
  if (!parsed || (isIP(address) === 6 && parsed.version === 4 && prefixText !== undefined)) return undefined;
  const bits = parsed.version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return undefined;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { version: parsed.version, network: parsed.value & mask, mask };
}

export function compileIpMatcher(blocks: readonly string[]): (address: string | undefined) => boolean {
  const parsed = blocks.map(parseBlock).filter((b): b is Block => b !== undefined);
  return (address) => {
    if (!address) return false;
    const ip = parseAddress(address);
    if (!ip) return false;
    for (const block of parsed) if (block.version === ip.version && (ip.value & block.mask) === block.network) return true;
    return false;
  };
}
