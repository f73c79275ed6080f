/**
 * The pages a person sees from the sign-in endpoints on the application's host (a failed or expired
 * sign-in, the issuer out of reach, a redirect's fallback link), in the login theme: the issuer's own
 * stylesheet, linked by URL (src/login renders the issuer's pages; the filter only shares the look).
 */
import type { HeaderToSet } from '../check-input.js';

export interface SignInPage {
  title: string;
  lead: string;
  /** A link to go on (start again, continue to the target). */
  link?: { href: string; text: string };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderSignInPage(issuer: string, page: SignInPage): string {
  const link = page.link ? `\n<div class="actions"><a class="button" href="${escapeHtml(page.link.href)}">${escapeHtml(page.link.text)}</a></div>` : '';
  return `<!doctype html>
<html lang="en" data-theme="auto">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>${escapeHtml(page.title)}</title>
<link rel="stylesheet" href="${escapeHtml(`${issuer}/static/style.css`)}">
</head>
<body>
<main>
<h1>${escapeHtml(page.title)}</h1>
<p class="lead">${escapeHtml(page.lead)}</p>${link}
</main>
<footer>Secured by idgate</footer>
</body>
</html>
`;
}

/** The headers every sign-in page and redirect carries: HTML, no caching, no framing, styles from the issuer only. */
export function pageHeaders(issuer: string): HeaderToSet[] {
  return [
    { name: 'content-type', value: 'text/html; charset=utf-8' },
    { name: 'cache-control', value: 'no-store' },
    { name: 'content-security-policy', value: `default-src 'none'; style-src ${new URL(issuer).origin}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'` },
    { name: 'x-content-type-options', value: 'nosniff' },
    { name: 'referrer-policy', value: 'no-referrer' },
  ];
}
