/** The connector chooser: one link per connector the client may use, each starting that login. */
import { html } from '../html.js';
import type { Page } from '../page.js';

export interface ChooserInput {
  basePath: string;
  clientName: string;
  authRequestId: string;
  connectors: Array<{ id: string; name: string }>;
}

export function chooserPage(input: ChooserInput): Page {
  const links = input.connectors.map((connector) => {
    const href = `${input.basePath}/auth/${encodeURIComponent(connector.id)}?req=${encodeURIComponent(input.authRequestId)}`;
    return html`<li><a class="button secondary" href="${href}">Continue with ${connector.name}</a></li>`;
  });
  return {
    title: 'Sign in',
    body: html`<h1>Sign in</h1>
<p class="lead">to continue to ${input.clientName}</p>
<nav aria-label="Sign-in methods"><ul class="connectors">${links}</ul></nav>`,
  };
}
