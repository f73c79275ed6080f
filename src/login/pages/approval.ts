/** The consent page: what the client asks for, in words, and approve / deny buttons (one form). */
import { CROSS_CLIENT_PREFIX } from '../../oidc/scopes.js';
import { html } from '../html.js';
import { formTargetsFor, type Page } from '../page.js';

const SCOPE_WORDS: Record<string, string> = {
  email: 'View your email address',
  profile: 'View your basic profile (name, username)',
  groups: 'View your groups',
  offline_access: 'Stay signed in (keep access when you are not using it)',
  'federated:id': 'View which sign-in service you used and your ID there',
};

export interface ApprovalInput {
  basePath: string;
  clientName: string;
  username: string;
  scopes: string[];
  authRequestId: string;
  csrfToken: string;
  /** Where approve/deny redirect: the CSP's form-action must allow it. */
  redirectURI: string;
}

export function describeScopes(scopes: string[]): string[] {
  const words = scopes.flatMap((scope) => {
    if (scope in SCOPE_WORDS) return [SCOPE_WORDS[scope]!];
    if (scope.startsWith(CROSS_CLIENT_PREFIX)) return [`Act on your behalf with ${scope.slice(CROSS_CLIENT_PREFIX.length)}`];
    return [];
  });
  return ['Confirm your identity', ...words];
}

export function approvalPage(input: ApprovalInput): Page {
  return {
    title: 'Grant access',
    formTargets: formTargetsFor(input.redirectURI),
    body: html`<h1>Grant access</h1>
<p class="lead">${input.clientName} would like to:</p>
<ul class="scopes">${describeScopes(input.scopes).map((text) => html`<li>${text}</li>`)}</ul>
<p class="meta">Signed in as ${input.username}</p>
<form method="post" action="${input.basePath}/approval">
<input type="hidden" name="req" value="${input.authRequestId}">
<input type="hidden" name="csrf_token" value="${input.csrfToken}">
<div class="actions">
<button class="button" type="submit" name="approval" value="approve">Allow</button>
<button class="button secondary" type="submit" name="approval" value="rejected">Deny</button>
</div>
</form>`,
  };
}
