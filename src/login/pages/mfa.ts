/**
 * The second-factor pages: choosing what to set up, setting up an authenticator app (QR code and the
 * key to type), the TOTP and recovery code prompts, the passkey page, and the recovery codes shown
 * once. Every input has a real <label>, errors are announced (role=alert) and tied to their field,
 * and the field to fill has focus. Each form posts the request's CSRF token.
 */
import { html, type SafeHtml } from '../html.js';
import { formTargetsFor, type Page } from '../page.js';

/** What every MFA page of one login shares. */
export interface MFAPageContext {
  basePath: string;
  clientName: string;
  authRequestId: string;
  csrfToken: string;
  /** The client's redirect URI, where a form's post may end (the CSP's form-action). */
  redirectURI: string;
}

/** Another way to pass this step, shown as a link under the form. */
export interface MFAAlternative {
  label: string;
  href: string;
}

function hiddenFields(page: MFAPageContext, authenticatorId?: string): SafeHtml {
  return html`<input type="hidden" name="req" value="${page.authRequestId}">
<input type="hidden" name="csrf_token" value="${page.csrfToken}">
${authenticatorId === undefined ? '' : html`<input type="hidden" name="authenticator" value="${authenticatorId}">`}`;
}

function errorBlock(id: string, error: string | undefined): SafeHtml | string {
  return error ? html`<p class="error" id="${id}" role="alert">${error}</p>` : '';
}

function invalidAttributes(id: string, error: string | undefined): SafeHtml | string {
  return error ? html` aria-invalid="true" aria-describedby="${id}"` : '';
}

function alternativesList(alternatives: readonly MFAAlternative[]): SafeHtml | string {
  if (alternatives.length === 0) return '';
  return html`<nav class="alternatives" aria-label="Other ways to verify"><ul>${alternatives.map((a) => html`<li><a href="${a.href}">${a.label}</a></li>`)}</ul></nav>`;
}

function codeField(error: string | undefined): SafeHtml {
  return html`<div class="field">
<label for="totp">6-digit code</label>
<input id="totp" name="totp" type="text" inputmode="numeric" pattern="[0-9 ]*" maxlength="8" autocomplete="one-time-code" spellcheck="false" required autofocus${invalidAttributes('mfa-error', error)}>
</div>`;
}

export function mfaChoicePage(page: MFAPageContext, choices: readonly MFAAlternative[]): Page {
  return {
    title: 'Set up a second factor',
    body: html`<h1>Set up a second factor</h1>
<p class="lead">${page.clientName} asks for a second step to confirm it is you. Choose how you want to do it.</p>
<nav aria-label="Second factors"><ul class="connectors">${choices.map((choice) => html`<li><a class="button secondary" href="${choice.href}">${choice.label}</a></li>`)}</ul></nav>`,
  };
}

export interface TOTPEnrollmentInput {
  /** The QR code image (a PNG data: URI) of the otpauth:// URI, and its width and height in pixels. */
  qrCode: string;
  qrSize: number;
  /** The secret, for typing into an app without a camera. */
  secret: string;
  account: string;
  authenticatorId: string;
  error?: string;
}

export function totpEnrollmentPage(page: MFAPageContext, input: TOTPEnrollmentInput): Page {
  const groups = input.secret.match(/.{1,4}/g)!.join(' ');
  return {
    title: 'Set up your authenticator app',
    formTargets: formTargetsFor(page.redirectURI),
    body: html`<h1>Set up your authenticator app</h1>
<p class="lead">Scan the code with an authenticator app, then enter the 6-digit code it shows.</p>
${errorBlock('mfa-error', input.error)}
<figure class="qr"><img src="${input.qrCode}" alt="QR code to add ${input.account} to an authenticator app" width="${input.qrSize}" height="${input.qrSize}"></figure>
<p class="meta">Can't scan it? Enter this key in the app:<br><code class="secret">${groups}</code></p>
<form method="post" action="${page.basePath}/mfa/totp" novalidate>
${hiddenFields(page, input.authenticatorId)}
${codeField(input.error)}
<div class="actions"><button class="button" type="submit">Verify and continue</button></div>
</form>`,
  };
}

export function totpPromptPage(page: MFAPageContext, input: { authenticatorId: string; error?: string; alternatives: readonly MFAAlternative[] }): Page {
  return {
    title: 'Enter your code',
    formTargets: formTargetsFor(page.redirectURI),
    body: html`<h1>Enter your code</h1>
<p class="lead">Open your authenticator app and enter the code it shows to continue to ${page.clientName}.</p>
${errorBlock('mfa-error', input.error)}
<form method="post" action="${page.basePath}/mfa/totp" novalidate>
${hiddenFields(page, input.authenticatorId)}
${codeField(input.error)}
<div class="actions"><button class="button" type="submit">Verify</button></div>
</form>
${alternativesList(input.alternatives)}`,
  };
}

export function recoveryPromptPage(page: MFAPageContext, input: { authenticatorId?: string; error?: string; alternatives: readonly MFAAlternative[] }): Page {
  return {
    title: 'Use a recovery code',
    formTargets: formTargetsFor(page.redirectURI),
    body: html`<h1>Use a recovery code</h1>
<p class="lead">Enter one of the recovery codes you saved when you set up your second factor. Each code works once.</p>
${errorBlock('mfa-error', input.error)}
<form method="post" action="${page.basePath}/mfa/recovery" novalidate>
${hiddenFields(page, input.authenticatorId)}
<div class="field">
<label for="recovery_code">Recovery code</label>
<input id="recovery_code" name="recovery_code" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" required autofocus${invalidAttributes('mfa-error', input.error)}>
</div>
<div class="actions"><button class="button" type="submit">Verify</button></div>
</form>
${alternativesList(input.alternatives)}`,
  };
}

export interface WebAuthnPageInput {
  authenticatorId: string;
  /** create: register a new passkey; get: sign in with one. */
  mode: 'create' | 'get';
  /** The ceremony's options as JSON, read by /static/webauthn.js. */
  options: string;
  error?: string;
  alternatives: readonly MFAAlternative[];
}

export function webauthnPage(page: MFAPageContext, input: WebAuthnPageInput): Page {
  const create = input.mode === 'create';
  const title = create ? 'Create a passkey' : 'Use your passkey';
  return {
    title,
    script: 'webauthn.js',
    formTargets: formTargetsFor(page.redirectURI),
    body: html`<h1>${title}</h1>
<p class="lead">${create
    ? html`${page.clientName} asks for a second step. Create a passkey on this device or a security key; your browser will guide you.`
    : html`Confirm it is you with your passkey or security key to continue to ${page.clientName}.`}</p>
${errorBlock('mfa-error', input.error)}
<p class="error" id="webauthn-error" role="alert" hidden></p>
<form method="post" action="${page.basePath}/mfa/webauthn" id="webauthn-form" data-webauthn-mode="${input.mode}" data-webauthn-options="${input.options}">
${hiddenFields(page, input.authenticatorId)}
<input type="hidden" name="credential" id="webauthn-credential" value="">
<div class="actions"><button class="button" type="button" id="webauthn-start" autofocus>${create ? 'Create passkey' : 'Use passkey'}</button></div>
</form>
<noscript><p class="error">Passkeys need JavaScript, which is turned off in this browser.</p></noscript>
${alternativesList(input.alternatives)}`,
  };
}

export function recoveryCodesPage(page: MFAPageContext, codes: readonly string[]): Page {
  return {
    title: 'Save your recovery codes',
    body: html`<h1>Save your recovery codes</h1>
<p class="lead">If you lose your phone or key, each of these codes lets you sign in once. Keep them somewhere safe: they are shown only now.</p>
<ul class="recovery-codes" aria-label="Recovery codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>
<div class="actions"><a class="button" href="${page.basePath}/mfa?req=${encodeURIComponent(page.authRequestId)}">I saved them, continue</a></div>`,
  };
}
