/**
 * Renders a login page in the common layout and sends it with the security headers every page gets:
 * a strict CSP (no inline anything; `form-action` widened only to the targets a page posts to),
 * no framing, no sniffing, no referrer, no caching.
 */
import type { Context } from 'koa';
import { html, type SafeHtml } from './html.js';
import type { Theme } from './theme.js';

export interface Page {
  title: string;
  body: SafeHtml;
  /** Origins the page's forms post to besides 'self' (a SAML IdP). */
  formTargets?: string[];
  /** Loads /static/autosubmit.js (script-src 'self'). */
  autoSubmit?: boolean;
  /** Loads another script of /static (script-src 'self'), e.g. webauthn.js. */
  script?: string;
}

/**
 * The CSP source that lets a form's response redirect to `uri`: browsers enforce form-action on the
 * redirects that follow a form post, so pages whose post ends at the client must name it.
 */
export function formTargetsFor(uri: string): string[] {
  const url = new URL(uri);
  if (url.protocol === 'http:' || url.protocol === 'https:') return [url.origin];
  return url.protocol === 'urn:' ? [] : [url.protocol];
}

export function contentSecurityPolicy(page: Pick<Page, 'formTargets' | 'autoSubmit' | 'script'>): string {
  const formAction = ["'self'", ...(page.formTargets ?? [])].join(' ');
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' https: data:",
    page.autoSubmit || page.script ? "script-src 'self'" : undefined,
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].filter(Boolean).join('; ');
}

export function setSecurityHeaders(ctx: Context, csp: string): void {
  ctx.set('Content-Security-Policy', csp);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

export function renderPage(theme: Theme, page: Page): string {
  const base = theme.basePath;
  return '<!doctype html>\n' + html`<html lang="en" data-theme="${theme.mode}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>${page.title} · ${theme.issuerName}</title>
<link rel="stylesheet" href="${base}/static/style.css">
${page.autoSubmit ? html`<script src="${base}/static/autosubmit.js" defer></script>` : ''}
${page.script ? html`<script src="${base}/static/${page.script}" defer></script>` : ''}
</head>
<body>
<main>
<header class="brand"><img src="${theme.logoURL}" alt="" width="36" height="36"><span>${theme.issuerName}</span></header>
${page.body}
</main>
<footer>Secured by idgate</footer>
</body>
</html>
`.toString();
}

export function sendPage(ctx: Context, theme: Theme, status: number, page: Page): void {
  setSecurityHeaders(ctx, contentSecurityPolicy(page));
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = renderPage(theme, page);
}
