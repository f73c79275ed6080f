/**
 * The SAML HTTP-POST binding's hand-off: a form to the IdP with SAMLRequest and RelayState, sent by
 * /static/autosubmit.js, or by the button when JavaScript is off.
 */
import { html } from '../html.js';
import type { Page } from '../page.js';

export interface SamlPostInput {
  ssoURL: string;
  samlRequest: string;
  relayState: string;
  connectorName: string;
}

export function samlPostPage(input: SamlPostInput): Page {
  return {
    title: 'Continue to sign in',
    formTargets: [new URL(input.ssoURL).origin],
    autoSubmit: true,
    body: html`<h1>Continue to sign in</h1>
<p class="lead">You are being sent to ${input.connectorName}.</p>
<form id="autosubmit" method="post" action="${input.ssoURL}">
<input type="hidden" name="SAMLRequest" value="${input.samlRequest}">
<input type="hidden" name="RelayState" value="${input.relayState}">
<div class="actions"><button class="button" type="submit">Continue</button></div>
</form>`,
  };
}
