/**
 * x-forwarded-client-cert parsing (Envoy's grammar: comma-separated elements, one per hop; each a
 * semicolon-separated list of Key=Value, keys case-insensitive, values optionally double-quoted), and
 * the trust rule: only the last element counts, and only when its By= is a trusted proxy.
 */

export type XfccElement = Array<[key: string, value: string]>;

/** Splits on `separator` outside double quotes. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === separator && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\"/g, '"') : value;
}

export function parseXfcc(header: string): XfccElement[] {
  return splitOutsideQuotes(header, ',').map((element) =>
    splitOutsideQuotes(element, ';').flatMap((pair): Array<[string, string]> => {
      const eq = pair.indexOf('=');
      return eq === -1 ? [] : [[pair.slice(0, eq).trim().toLowerCase(), unquote(pair.slice(eq + 1).trim())]];
    }),
  );
}

/** The client URI SAN from the last element, when that element's By= is in `trustedBy`. */
export function trustedXfccUri(header: string | undefined, trustedBy: ReadonlySet<string>): string | undefined {
  if (!header || trustedBy.size === 0) return undefined;
  const elements = parseXfcc(header);
  const last = elements[elements.length - 1];
  if (!last) return undefined;
  const by = last.filter(([k]) => k === 'by').map(([, v]) => v);
  if (!by.some((b) => trustedBy.has(b))) return undefined;
  const uri = last.find(([k, v]) => k === 'uri' && v !== '');
  return uri?.[1];
}
