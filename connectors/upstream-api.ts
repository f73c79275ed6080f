/**
 * Calls to a provider's REST API with the person's upstream access token (GitHub, GitLab, Graph, the
 * Google directory, a userinfo URL): JSON in and out, bounded by the connector's timeout, redirects
 * never followed (they would carry the token elsewhere), and paging links believed only when they
 * stay on the API's own origin. Failures become ConnectorErrors a person can read; the token never
 * appears in one.
 */
import type { z } from 'zod';
import { ConnectorError } from '../src/connector.js';
import type { UpstreamFetch } from './oidc/tls-fetch.js';
import { upstreamError } from './oidc/upstream.js';

export interface APIResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** At most this many pages are followed for one list, so a looping upstream cannot hold a login. */
export const MAX_PAGES = 100;

export class UpstreamAPI {
  constructor(
    private readonly fetch: UpstreamFetch,
    private readonly timeout: number,
    /** Sent on every call (GitHub's Accept and API version). */
    private readonly headers: Record<string, string> = {},
  ) {}

  /** GET that must answer 2xx with JSON. `step` names the call in errors ("user", "teams"). */
  async get<T>(url: string, accessToken: string, step: string): Promise<APIResponse<T>> {
    return this.expectOK<T>(await this.send('GET', url, accessToken, step), step);
  }

  /** POST of a JSON body that must answer 2xx with JSON. */
  async post<T>(url: string, accessToken: string, body: unknown, step: string): Promise<APIResponse<T>> {
    return this.expectOK<T>(await this.send('POST', url, accessToken, step, body), step);
  }

  /** Any status, body unread: for checks that answer with the status itself (GitHub's 204/404 membership). */
  async status(url: string, accessToken: string, step: string): Promise<number> {
    const response = await this.send('GET', url, accessToken, step);
    await response.body?.cancel();
    return response.status;
  }

  private async send(method: string, url: string, accessToken: string, step: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'idgate',
      ...this.headers,
      authorization: `Bearer ${accessToken}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeout),
      });
    } catch (error) {
      throw upstreamError(error, step);
    }
  }

  private async expectOK<T>(response: Response, step: string): Promise<APIResponse<T>> {
    const text = await readText(response, step);
    if (response.status < 200 || response.status > 299) {
      const detail = errorDetail(text);
      throw new ConnectorError('upstream_error', `the identity provider answered the ${step} request with HTTP ${response.status}${detail ? `: ${detail}` : ''}`);
    }
    try {
      return { status: response.status, headers: response.headers, body: JSON.parse(text) as T };
    } catch (error) {
      throw new ConnectorError('upstream_error', `the identity provider sent a ${step} response that is not JSON`, { cause: error });
    }
  }
}

async function readText(response: Response, step: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw upstreamError(error, step);
  }
}

/** The provider's own words from an error body: GitHub `message`, Graph/Google `error.message`, OAuth `error_description`. */
function errorDetail(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return '';
  }
  const fields = (body ?? {}) as { message?: unknown; error?: unknown; error_description?: unknown };
  const nested = fields.error && typeof fields.error === 'object' ? (fields.error as { message?: unknown }).message : undefined;
  const found = [fields.error_description, nested, fields.message, fields.error].find((value): value is string => typeof value === 'string');
  return found ? found.slice(0, 200) : '';
}

/** The body read through `schema` (extra fields allowed); a body of another shape is refused, naming the field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, step: string): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const at = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new ConnectorError('invalid_response', `the identity provider's ${step} response is not what its API documents${at}: ${issue.message}`);
}

/**
 * The next page's URL when it is on `base`'s origin; a link elsewhere is refused, because following
 * it would send the person's token to another host.
 */
export function sameOriginPage(next: string, base: string, step: string): string {
  const url = new URL(next, base);
  if (url.origin !== new URL(base).origin) {
    throw new ConnectorError('invalid_response', `the identity provider's ${step} response links its next page on another host (${url.host})`);
  }
  return url.href;
}

/** Reads pages from `first` while `next` names another one, up to MAX_PAGES. */
export async function readPages<P>(first: string, step: string, page: (url: string) => Promise<{ next?: string; value: P }>): Promise<P[]> {
  const pages: P[] = [];
  let url: string | undefined = first;
  while (url) {
    if (pages.length === MAX_PAGES) {
      throw new ConnectorError('upstream_error', `the identity provider's ${step} list has more than ${MAX_PAGES} pages`);
    }
    const { next, value } = await page(url);
    pages.push(value);
    url = next === undefined ? undefined : sameOriginPage(next, first, step);
  }
  return pages;
}
