/**
 * The account page of a signed-in browser: who is signed in and since when, the applications signed
 * in to with this sign-in, the consents remembered for this person (each with a Withdraw button), and
 * Sign out. Every form carries the session's form token.
 */
import { describeScopes } from './approval.js';
import { html } from '../html.js';
import type { Page } from '../page.js';

export interface AccountInput {
  basePath: string;
  csrfToken: string;
  signedInAs: string;
  connectorName: string;
  /** ISO times. */
  signedInAt: string;
  endsBy: string;
  applications: string[];
  consents: Array<{ clientId: string; clientName: string; scopes: string[]; givenAt: string }>;
}

const time = (iso: string) => html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;

export function accountPage(input: AccountInput): Page {
  const consents = input.consents.map((consent) => html`<li class="consent">
<h3>${consent.clientName}</h3>
<ul class="scopes">${describeScopes(consent.scopes).map((text) => html`<li>${text}</li>`)}</ul>
<p class="meta">Allowed ${time(consent.givenAt)}</p>
<form method="post" action="${input.basePath}/account/consents">
<input type="hidden" name="csrf_token" value="${input.csrfToken}">
<input type="hidden" name="client_id" value="${consent.clientId}">
<button class="button secondary" type="submit" aria-label="Withdraw access of ${consent.clientName}">Withdraw</button>
</form>
</li>`);
  return {
    title: 'Your account',
    body: html`<h1>Your account</h1>
<p class="lead">Signed in as ${input.signedInAs} with ${input.connectorName}, since ${time(input.signedInAt)}; this sign-in ends by ${time(input.endsBy)}.</p>
<h2>Applications signed in with it</h2>
${input.applications.length > 0 ? html`<ul class="scopes">${input.applications.map((name) => html`<li>${name}</li>`)}</ul>` : html`<p>None yet.</p>`}
<h2>Access you allowed</h2>
${consents.length > 0 ? html`<ul class="consents">${consents}</ul>` : html`<p>You have not allowed any application access yet.</p>`}
<form method="post" action="${input.basePath}/logout">
<input type="hidden" name="csrf_token" value="${input.csrfToken}">
<div class="actions"><button class="button" type="submit" name="confirm" value="yes">Sign out</button></div>
</form>`,
  };
}

export function notSignedInPage(): Page {
  return {
    title: 'Your account',
    body: html`<h1>You are not signed in</h1>
<p>Sign in through an application to see your account here.</p>`,
  };
}
