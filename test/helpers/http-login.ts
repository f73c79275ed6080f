/**
 * Drives the login pages over plain HTTP, as a person without JavaScript would: follows redirects,
 * keeps cookies (per origin and path, in a CookieJar: the login is bound to the browser that started
 * it), fills the password form and approves, until the browser would land on the client's redirect
 * URI, by a redirect or by a form it posts there (response_mode=form_post). Forms are read from the
 * HTML (action, method, hidden inputs), so tests exercise the real pages, CSRF tokens included.
 */
import { CookieJar } from './cookie-jar.js';

export interface LoginOptions {
  /** Where the flow ends: the client's redirect URI (without query). */
  redirectURI: string;
  username?: string;
  password?: string;
  /** Press "deny" instead of "approve" on the approval page. */
  deny?: boolean;
  /** Pick this connector on the chooser (by its link to /auth/<id>). */
  connector?: string;
  /** Type this into the device flow's code form (default: what the page pre-filled). */
  userCode?: string;
  maxSteps?: number;
  /** Extra headers on every request of the flow (a traceparent). */
  headers?: Record<string, string>;
  /** The browser's cookies; a fresh jar by default. */
  jar?: CookieJar;
  /** Filled with every URL the browser requested, in order (to see which pages a flow passed). */
  visited?: string[];
  /** The fetch to use instead of the global one (one that trusts a test CA, for an https upstream). */
  fetch?: (url: string, init: { method: string; headers: Record<string, string>; body?: string; redirect: 'manual' }) => Promise<Response>;
}

/** How the browser arrives at the redirect URI: a GET of `url`, or a POST of `form` to it (form_post). */
export interface LoginLanding {
  url: URL;
  form?: URLSearchParams;
}

interface Form {
  action: string;
  method: string;
  fields: Record<string, string>;
  inputs: Array<{ name: string; type: string; value: string }>;
  buttons: Array<{ name: string; value: string }>;
}

export async function followLogin(startURL: string, options: LoginOptions): Promise<URL> {
  return (await followLoginTo(startURL, options)).url;
}

/** followLogin, also telling a form_post landing (the fields posted) from a redirect. */
export async function followLoginTo(startURL: string, options: LoginOptions): Promise<LoginLanding> {
  const jar = options.jar ?? new CookieJar();
  let url = startURL;
  let method = 'GET';
  let body: URLSearchParams | undefined;
  for (let step = 0; step < (options.maxSteps ?? 15); step++) {
    if (url.startsWith(options.redirectURI)) return { url: new URL(url), ...(method === 'POST' && body ? { form: body } : {}) };
    options.visited?.push(url);
    const cookie = jar.header(url);
    const send = options.fetch ?? ((target, init) => fetch(target, init));
    const response = await send(url, {
      method,
      body: body?.toString(),
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        ...options.headers,
        ...(cookie ? { cookie } : {}),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
    });
    jar.store(url, response);
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location')!, url).toString();
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new LoginPageError(response.status, html);
    const next = chooseNextStep(html, url, options);
    ({ url, method, body } = next);
  }
  throw new Error(`login did not reach ${options.redirectURI}`);
}

export class LoginPageError extends Error {
  constructor(
    readonly status: number,
    readonly html: string,
  ) {
    super(`login page answered ${status}: ${textOf(html).slice(0, 300)}`);
  }
}

function chooseNextStep(html: string, pageURL: string, options: LoginOptions): { url: string; method: string; body?: URLSearchParams } {
  const forms = parseForms(html);
  const passwordForm = forms.find((form) => form.inputs.some((input) => input.type === 'password'));
  if (passwordForm) {
    const fields = new URLSearchParams(passwordForm.fields);
    const userInput = passwordForm.inputs.find((input) => input.type !== 'hidden' && input.type !== 'password' && input.type !== 'submit' && input.type !== 'checkbox');
    const passInput = passwordForm.inputs.find((input) => input.type === 'password');
    fields.set(userInput!.name, options.username ?? '');
    fields.set(passInput!.name, options.password ?? '');
    return { url: new URL(passwordForm.action, pageURL).toString(), method: passwordForm.method, body: fields };
  }
  const approval = forms.find((form) => form.buttons.length > 0 && /approv|grant|allow|deny/i.test(JSON.stringify(form.buttons) + form.action));
  if (approval) {
    const fields = new URLSearchParams(approval.fields);
    const button = approval.buttons.find((b) => (options.deny ? /deny|cancel|reject/i : /approv|grant|allow|accept/i).test(`${b.name} ${b.value}`));
    if (button?.name) fields.set(button.name, button.value);
    return { url: new URL(approval.action, pageURL).toString(), method: approval.method, body: fields };
  }
  const codeForm = forms.find((form) => form.inputs.some((input) => input.name === 'user_code'));
  if (codeForm) {
    const fields = new URLSearchParams(codeForm.fields);
    fields.set('user_code', options.userCode ?? codeForm.inputs.find((input) => input.name === 'user_code')!.value);
    return { url: new URL(codeForm.action, pageURL).toString(), method: 'POST', body: fields };
  }
  const autoPost = forms.find((form) => form.method === 'POST');
  if (autoPost) {
    return { url: new URL(autoPost.action, pageURL).toString(), method: 'POST', body: new URLSearchParams(autoPost.fields) };
  }
  const links = [...html.matchAll(/<a\b[^>]*href="([^"]+)"/g)].map((m) => decodeEntities(m[1]!));
  const link = links.find((href) => (options.connector ? href.includes(`/auth/${options.connector}`) : /\/auth\/[^/?]+/.test(href)));
  if (link) return { url: new URL(link, pageURL).toString(), method: 'GET' };
  throw new LoginPageError(200, html);
}

export function parseForms(html: string): Form[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((match) => {
    const attrs = match[1]!;
    const inner = match[2]!;
    const inputs = [...inner.matchAll(/<input\b([^>]*)>/gi)].map((input) => ({
      name: attr(input[1]!, 'name') ?? '',
      type: (attr(input[1]!, 'type') ?? 'text').toLowerCase(),
      value: attr(input[1]!, 'value') ?? '',
    }));
    const buttons = [...inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)].map((button) => ({
      name: attr(button[1]!, 'name') ?? '',
      value: attr(button[1]!, 'value') ?? textOf(button[2]!),
    }));
    const fields: Record<string, string> = {};
    for (const input of inputs) if (input.type === 'hidden' && input.name) fields[input.name] = input.value;
    return { action: attr(attrs, 'action') ?? '', method: (attr(attrs, 'method') ?? 'GET').toUpperCase(), fields, inputs, buttons };
  });
}

function attr(attrs: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(attrs);
  return match ? decodeEntities(match[2] ?? match[3] ?? '') : undefined;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(parseInt(code, 16)))
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function textOf(html: string): string {
  return decodeEntities(html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());
}
