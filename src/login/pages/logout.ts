/**
 * The logout pages: the confirmation asked when an application did not vouch for the session it ends
 * (RP-Initiated Logout 1.0 §2: no id_token_hint, or another session's), whose one form is bound to the
 * session cookie; and the page shown after signing out when the application named no place to return.
 */
import { html } from '../html.js';
import { formTargetsFor, type Page } from '../page.js';

export interface LogoutConfirmInput {
  basePath: string;
  csrfToken: string;
  /** Who is signed in, and the application asking (when it said which it is). */
  signedInAs: string;
  clientName?: string;
  clientId?: string;
  postLogoutRedirectURI?: string;
  state?: string;
}

export function logoutConfirmPage(input: LogoutConfirmInput): Page {
  const hidden = (name: string, value: string | undefined) => (value === undefined ? '' : html`<input type="hidden" name="${name}" value="${value}">`);
  return {
    title: 'Sign out',
    ...(input.postLogoutRedirectURI ? { formTargets: formTargetsFor(input.postLogoutRedirectURI) } : {}),
    body: html`<h1>Sign out?</h1>
<p class="lead">${input.clientName ? html`${input.clientName} asks to sign you out.` : 'Sign out of every application you signed in to here.'}</p>
<p>You are signed in as ${input.signedInAs}. Signing out ends your sign-in for every application that used it.</p>
<form method="post" action="${input.basePath}/logout">
<input type="hidden" name="csrf_token" value="${input.csrfToken}">
${hidden('client_id', input.clientId)}${hidden('post_logout_redirect_uri', input.postLogoutRedirectURI)}${hidden('state', input.state)}
<div class="actions"><button class="button" type="submit" name="confirm" value="yes">Sign out</button>
<a class="button secondary" href="${input.basePath}/account">Stay signed in</a></div>
</form>`,
  };
}

export function signedOutPage(wasSignedIn: boolean): Page {
  return {
    title: 'Signed out',
    body: html`<h1>${wasSignedIn ? 'You are signed out' : 'You are not signed in'}</h1>
<p>${wasSignedIn ? 'Your sign-in has ended for every application that used it. You can close this window.' : 'There was no sign-in to end in this browser.'}</p>`,
  };
}
