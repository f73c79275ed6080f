/** The error page: a title, one sentence, and the request ID to quote to an operator. Never a stack. */
import { html } from '../html.js';
import type { Page } from '../page.js';

export function errorPage(title: string, message: string, requestId: string): Page {
  return {
    title,
    body: html`<h1>${title}</h1>
<p>${message}</p>
<p class="meta">Request ID: <code>${requestId}</code></p>`,
  };
}
