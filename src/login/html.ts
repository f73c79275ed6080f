/**
 * A tiny HTML template helper with mandatory escaping: every value interpolated into `html\`...\``
 * is escaped unless it is itself a `SafeHtml` produced by `html` (or a list of them). There is no
 * "raw string" escape hatch, so user data can never reach a page unescaped.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

const CREATED_BY_HTML = Symbol('SafeHtml');

/** Markup that is already safe: only `html` can create it (the constructor wants a private key). */
export class SafeHtml {
  readonly #markup: string;
  constructor(key: symbol, markup: string) {
    if (key !== CREATED_BY_HTML) throw new TypeError('SafeHtml is created by the html`` template only');
    this.#markup = markup;
  }
  toString(): string {
    return this.#markup;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<p>${name}</p>\`` escapes `name`; nested `html` fragments pass through. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let markup = strings[0]!;
  values.forEach((value, index) => {
    markup += render(value) + strings[index + 1]!;
  });
  return new SafeHtml(CREATED_BY_HTML, markup);
}
