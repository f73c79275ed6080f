/** The out-of-band result (redirect_uri urn:ietf:wg:oauth:2.0:oob): the code, for the person to copy. */
import { html } from '../html.js';
import type { Page } from '../page.js';

export function oobPage(code: string): Page {
  return {
    title: 'Sign-in complete',
    body: html`<h1>Sign-in complete</h1>
<p class="lead">Copy this code and paste it into the application:</p>
<p><label for="code" class="visually-hidden">Login code</label>
<input id="code" type="text" readonly value="${code}" autocomplete="off" spellcheck="false"></p>`,
  };
}
