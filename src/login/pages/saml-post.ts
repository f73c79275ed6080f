/** The SAML HTTP-POST binding's hand-off: SAMLRequest and RelayState posted to the IdP. */
import type { Page } from '../page.js';
import { autoPostPage } from './auto-post.js';

export interface SamlPostInput {
  ssoURL: string;
  samlRequest: string;
  relayState: string;
  connectorName: string;
}

export function samlPostPage(input: SamlPostInput): Page {
  return autoPostPage({
    title: 'Continue to sign in',
    lead: `You are being sent to ${input.connectorName}.`,
    action: input.ssoURL,
    fields: { SAMLRequest: input.samlRequest, RelayState: input.relayState },
  });
}
