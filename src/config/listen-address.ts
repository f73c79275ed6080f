/**
 * The parts of a listen address as the config writes it (`host:port`, `[v6]:port`, `:port`), for the
 * server that binds it and for the health probe that connects to it.
 */

/** Host (without brackets) and port; no host (`:5556`) is 0.0.0.0, every IPv4 interface. */
export function splitAddress(address: string): { host: string; port: number } {
  const index = address.lastIndexOf(':');
  const host = address.slice(0, index).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(address.slice(index + 1)) };
}
