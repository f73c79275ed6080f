/**
 * RFC 4515 escaping for values placed into LDAP search filters, so a username such as `*)(uid=*`
 * is matched literally instead of widening the search (LDAP filter injection).
 */

/** Escapes `\`, `*`, `(`, `)` and NUL (and every other control character) as `\XX`. */
export function escapeFilterValue(value: string): string {
  let escaped = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '\\' || char === '*' || char === '(' || char === ')' || code < 0x20 || code === 0x7f) {
      escaped += `\\${code.toString(16).padStart(2, '0')}`;
    } else {
      escaped += char;
    }
  }
  return escaped;
}

/** `(attr=value)` with the value escaped; `and` wraps it with an operator-supplied filter. */
export function equalityFilter(attribute: string, value: string, and?: string): string {
  const match = `(${attribute}=${escapeFilterValue(value)})`;
  return and ? `(&${and}${match})` : match;
}
