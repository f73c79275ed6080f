/**
 * The console's page frame: the masthead (the mesh lock with its tooltip, who is signed in, sign out),
 * the navigation, and the security headers every page gets — a strict CSP (scripts and styles from
 * the console's own static files only, nothing inline), no framing, no caching.
 */
import type { Context } from 'koa';
import { html, type SafeHtml } from '../../../login/html.js';
import { CONSOLE_PATH } from '../config.js';
import type { Lock } from '../mtls-locks.js';

export type Role = 'admin' | 'read-only';

export interface Viewer {
  name: string;
  role: Role;
  csrfToken: string;
}

export interface ConsolePage {
  title: string;
  /** The navigation entry to mark as current. */
  section?: string;
  viewer?: Viewer;
  mesh?: Lock;
  body: SafeHtml;
  /** Script files under /console/static/ the page loads (deferred). */
  scripts?: string[];
  /** No navigation (the page of someone who may not use the console). */
  noNavigation?: boolean;
  /** An http-equiv refresh to this same-origin path (after sign-in: see auth/sign-in.ts). */
  refreshTo?: string;
}

export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

const NAV: ReadonlyArray<[string, string]> = [
  ['overview', 'Namespaces'], ['policies', 'Policies'], ['graph', 'Traffic graph'], ['explain', 'Explain'],
  ['decisions', 'Decisions'], ['sessions', 'Sessions'], ['clients', 'Clients & connectors'],
];

const LOCK_PATHS = {
  full: html`<path d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2" fill="none" stroke="currentColor" stroke-width="1.6"/><rect x="2.5" y="7" width="11" height="8" rx="1.5" fill="currentColor"/>`,
  hollow: html`<path d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2" fill="none" stroke="currentColor" stroke-width="1.6"/><rect x="3.2" y="7.7" width="9.6" height="6.6" rx="1.2" fill="none" stroke="currentColor" stroke-width="1.4"/>`,
  open: html`<path d="M4.5 7V5a3.5 3.5 0 0 1 6.9-.9" fill="none" stroke="currentColor" stroke-width="1.6"/><rect x="2.5" y="7" width="11" height="8" rx="1.5" fill="currentColor"/>`,
};

/** A lock icon (nothing for "none"), hidden from assistive technology: the text beside it says it. */
export function lockIcon(lock: Lock): SafeHtml {
  if (lock.icon === 'none') return html``;
  return html`<svg class="lock-icon${lock.danger ? ' danger' : ''}" data-lock="${lock.icon}" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">${LOCK_PATHS[lock.icon]}</svg>`;
}

/** A lock with its tooltip (shown on hover and keyboard focus; tied to it by aria-describedby). */
export function lockWithTooltip(lock: Lock, id: string, text: string): SafeHtml {
  return html`<span class="tip-anchor"><span class="lock" tabindex="0" data-status="${lock.status}" aria-describedby="${id}">${lockIcon(lock)}<span>${text}</span>${lock.inherited ? html`<span class="inherited" title="inherited from the mesh">↓ inherited</span>` : ''}</span><span class="tooltip" role="tooltip" id="${id}">${lock.message}. ${lock.why}.</span></span>`;
}

function masthead(page: ConsolePage): SafeHtml {
  const mesh = page.mesh
    ? lockWithTooltip(page.mesh, 'mesh-mtls-why', page.mesh.icon === 'none' ? 'mTLS: off' : page.mesh.icon === 'full' ? 'mTLS: on' : 'mTLS: partial')
    : '';
  const viewer = page.viewer
    ? html`<span class="who">${page.viewer.name} <span class="role">${page.viewer.role}</span></span>
<form method="post" action="${CONSOLE_PATH}/logout" class="inline"><input type="hidden" name="csrf" value="${page.viewer.csrfToken}"><button type="submit" class="link-button">Sign out</button></form>`
    : '';
  return html`<header class="masthead"><a class="brand" href="${CONSOLE_PATH}/">idgate console</a><div class="mesh" aria-label="Mesh-wide mTLS">${mesh}</div><div class="viewer">${viewer}</div></header>`;
}

function navigation(page: ConsolePage): SafeHtml {
  if (!page.viewer || page.noNavigation) return html``;
  return html`<nav aria-label="Console"><ul>${NAV.map(([key, label]) => html`<li><a href="${CONSOLE_PATH}/${key === 'overview' ? '' : key}"${page.section === key ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul></nav>`;
}

export function renderConsolePage(page: ConsolePage): string {
  return '<!doctype html>\n' + html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
${page.refreshTo ? html`<meta http-equiv="refresh" content="0;url=${page.refreshTo}">` : ''}
<title>${page.title} · idgate console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" id="__________cytoscape_stylesheet" href="${CONSOLE_PATH}/static/console.css">
${['console.js', ...(page.scripts ?? [])].map((script) => html`<script src="${CONSOLE_PATH}/static/${script}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${masthead(page)}
${navigation(page)}
<main id="main">
<h1>${page.title}</h1>
${page.body}
</main>
</body>
</html>
`.toString();
}

export function sendConsolePage(ctx: Context, status: number, page: ConsolePage): void {
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the console's own form posts.
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('Cache-Control', 'no-store');
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = renderConsolePage(page);
}

/** A page that only says something (an error, signed out), with a way on. */
export function messagePage(title: string, message: string, link?: { href: string; label: string }): ConsolePage {
  return { title, body: html`<p class="message">${message}</p>${link ? html`<p><a class="button" href="${link.href}">${link.label}</a></p>` : ''}` };
}
