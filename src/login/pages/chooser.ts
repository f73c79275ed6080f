/**
 * The connector chooser: one link per connector the client may use, each starting that login; with
 * prompt=select_account and a login session, "Continue as …" first, to keep the session's account.
 */
import { html } from '../html.js';
import type { Page } from '../page.js';

export interface ChooserInput {
  basePath: string;
  clientName: string;
  authRequestId: string;
  connectors: Array<{ id: string; name: string }>;
  /** Who the browser's login session is of, when the chooser offers to continue with it. */
  signedInAs?: string;
}

export function chooserPage(input: ChooserInput): Page {
  const request = encodeURIComponent(input.authRequestId);
  const links = input.connectors.map((connector) => {
    const href = `${input.basePath}/auth/${encodeURIComponent(connector.id)}?req=${request}`;
    return html`<li><a class="button secondary" href="${href}">Continue with ${connector.name}</a></li>`;
  });
  const session = input.signedInAs === undefined ? '' : html`<li><a class="button" href="${input.basePath}/auth?req=${request}&amp;session=continue">Continue as ${input.signedInAs}</a></li>`;
  return {
    title: 'Sign in',
    body: html`<h1>Sign in</h1>
<p class="lead">to continue to ${input.clientName}</p>
<nav aria-label="Sign-in methods"><ul class="connectors">${session}${links}</ul></nav>`,
  };
}
