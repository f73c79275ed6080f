/**
 * A page whose form POSTs itself to another site: sent by /static/autosubmit.js (the CSP allows
 * script-src 'self' and nothing inline), or by its button when JavaScript is off or blocked. The
 * CSP's form-action names the target, so the post is allowed and nowhere else is.
 */
import { html } from '../html.js';
import { formTargetsFor, type Page } from '../page.js';

export interface AutoPostInput {
  title: string;
  lead: string;
  action: string;
  fields: Record<string, string>;
}

export function autoPostPage(input: AutoPostInput): Page {
  const fields = Object.entries(input.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return {
    title: input.title,
    formTargets: formTargetsFor(input.action),
    autoSubmit: true,
    body: html`<h1>${input.title}</h1>
<p class="lead">${input.lead}</p>
<form id="autosubmit" method="post" action="${input.action}">
${fields}
<div class="actions"><button class="button" type="submit">Continue</button></div>
</form>`,
  };
}
