/** The issuer's root page: what this is, and where discovery lives. */
import { html } from '../html.js';
import type { Page } from '../page.js';

export function rootPage(issuerName: string, basePath: string): Page {
  return {
    title: issuerName,
    body: html`<h1>${issuerName}</h1>
<p>This is an OpenID Connect provider. Applications send you here to sign in.</p>
<p><a href="${basePath}/.well-known/openid-configuration">OpenID Connect discovery document</a></p>`,
  };
}
