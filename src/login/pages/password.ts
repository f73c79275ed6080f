/**
 * The password form. Labels are real <label for>s, autocomplete hints let password managers work,
 * and an error is announced (role=alert) and tied to both fields with aria-describedby.
 */
import { html } from '../html.js';
import { formTargetsFor, type Page } from '../page.js';

export interface PasswordFormInput {
  basePath: string;
  connectorId: string;
  connectorName: string;
  clientName: string;
  authRequestId: string;
  csrfToken: string;
  /** The username field's label (the connector's prompt). */
  prompt: string;
  username?: string;
  error?: string;
  /** The client's redirect URI, where a post may end when the approval screen is skipped. */
  redirectURI: string;
  /** Link back to the chooser when there is more than one connector. */
  chooserURL?: string;
}

export function passwordPage(input: PasswordFormInput): Page {
  const action = `${input.basePath}/auth/${encodeURIComponent(input.connectorId)}/login`;
  const describedBy = input.error ? 'login-error' : undefined;
  const invalid = input.error ? 'true' : undefined;
  const focusPassword = Boolean(input.username);
  return {
    title: 'Sign in',
    formTargets: formTargetsFor(input.redirectURI),
    body: html`<h1>Sign in</h1>
<p class="lead">to continue to ${input.clientName} with ${input.connectorName}</p>
${input.error ? html`<p class="error" id="login-error" role="alert">${input.error}</p>` : ''}
<form method="post" action="${action}" novalidate>
<input type="hidden" name="req" value="${input.authRequestId}">
<input type="hidden" name="csrf_token" value="${input.csrfToken}">
<div class="field">
<label for="login">${input.prompt}</label>
<input id="login" name="login" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required
 value="${input.username ?? ''}"${focusPassword ? '' : html` autofocus`}${invalid ? html` aria-invalid="true" aria-describedby="${describedBy}"` : ''}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${focusPassword ? html` autofocus` : ''}${invalid ? html` aria-invalid="true" aria-describedby="${describedBy}"` : ''}>
</div>
<div class="actions"><button class="button" type="submit">Sign in</button>
${input.chooserURL ? html`<a class="button secondary" href="${input.chooserURL}">Use another sign-in method</a>` : ''}</div>
</form>`,
  };
}
