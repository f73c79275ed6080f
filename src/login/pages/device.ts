/**
 * The device flow's pages: the form where a person types the code their device shows (pre-filled from
 * verification_uri_complete, never submitted for them), and the last page, which tells them whether
 * the device got access.
 */
import { DEVICE_PATHS } from '../../oidc/device/device-request.js';
import { html } from '../html.js';
import type { Page } from '../page.js';

export interface DeviceCodeInput {
  basePath: string;
  csrfToken: string;
  userCode?: string;
  error?: string;
}

export function deviceCodePage(input: DeviceCodeInput): Page {
  const invalid = input.error ? html` aria-invalid="true" aria-describedby="device-error"` : '';
  return {
    title: 'Connect a device',
    body: html`<h1>Connect a device</h1>
<p class="lead">Enter the code shown on your device.</p>
${input.error ? html`<p class="error" id="device-error" role="alert">${input.error}</p>` : ''}
<form method="post" action="${input.basePath}${DEVICE_PATHS.verifyCode}" novalidate>
<input type="hidden" name="csrf_token" value="${input.csrfToken}">
<div class="field">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" type="text" placeholder="XXXX-XXXX" autocomplete="off" autocapitalize="characters"
 spellcheck="false" required value="${input.userCode ?? ''}" autofocus${invalid}>
</div>
<p class="meta">Only enter a code from a device you are signing in on yourself, never one someone sent you.</p>
<div class="actions"><button class="button" type="submit">Continue</button></div>
</form>`,
  };
}

export function deviceDonePage(outcome: { approved: boolean; clientName: string }): Page {
  if (!outcome.approved) {
    return {
      title: 'Access denied',
      body: html`<h1>Access denied</h1>
<p class="lead">${outcome.clientName} on your device was not given access.</p>
<p>You may close this page.</p>`,
    };
  }
  return {
    title: 'Device connected',
    body: html`<h1>Device connected</h1>
<p class="lead">${outcome.clientName} on your device is signed in.</p>
<p>You may return to your device and close this page.</p>`,
  };
}
