// The provider API client the OAuth 2.0 connectors share (connectors/upstream-api.ts): the person's
// token goes only to the API's own host (no redirect followed, no next-page link to another host),
// a looping pager is cut off, error bodies are read in the provider's words, and GitHub's Link
// header is parsed as GitHub writes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextLink } from '../../connectors/github/api.js';
import { MAX_PAGES, UpstreamAPI, readPages } from '../../connectors/upstream-api.js';
import type { UpstreamFetch } from '../../connectors/oidc/tls-fetch.js';
import { refusal } from './context.js';
import { sendJSON, startProviderServer, type ProviderServer } from './provider-server.js';

let api: ProviderServer;
let elsewhere: ProviderServer;
const fetchWith: UpstreamFetch = (url, options) => fetch(url, options as RequestInit);
const client = new UpstreamAPI(fetchWith, 2000);

beforeAll(async () => {
  api = await startProviderServer();
  elsewhere = await startProviderServer();
  elsewhere.route('GET', '/steal', (_request, res) => sendJSON(res, 200, []));
  api.route('GET', '/moved', (_request, res) => {
    res.writeHead(302, { location: `${elsewhere.origin}/steal` }).end();
  });
  api.route('GET', '/list', (_request, res) => sendJSON(res, 200, [1], { link: `<${elsewhere.origin}/steal?page=2>; rel="next"` }));
  api.route('GET', '/forever', (request, res) => sendJSON(res, 200, [1], { link: `<${api.origin}/forever?page=${Number(request.query.get('page') ?? 1) + 1}>; rel="next"` }));
  api.route('GET', '/graph-error', (_request, res) => sendJSON(res, 403, { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } }));
});
afterAll(async () => Promise.all([api?.close(), elsewhere?.close()]));

describe('upstream API calls', () => {
  it('does not follow a redirect with the token', async () => {
    const error = await refusal(client.get(`${api.origin}/moved`, 'secret-token', 'user'));
    expect(error.message).toMatch(/HTTP 302/);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses a next-page link on another host before sending anything there', async () => {
    const error = await refusal(readPages(`${api.origin}/list`, 'teams', async (url) => {
      const { body, headers } = await client.get<number[]>(url, 'secret-token', 'teams');
      return { value: body, next: nextLink(headers.get('link')) };
    }));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/links its next page on another host/);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it(`stops a pager that never ends after ${MAX_PAGES} pages`, async () => {
    const error = await refusal(readPages(`${api.origin}/forever`, 'teams', async (url) => {
      const { body, headers } = await client.get<number[]>(url, 'secret-token', 'teams');
      return { value: body, next: nextLink(headers.get('link')) };
    }));
    expect(error.message).toMatch(/more than 100 pages/);
    expect(api.requests.filter((request) => request.path === '/forever')).toHaveLength(MAX_PAGES);
  });

  it('reports an error answer in the provider\'s own words, without the token', async () => {
    const error = await refusal(client.get(`${api.origin}/graph-error`, 'secret-token', 'member groups'));
    expect(error.message).toBe('the identity provider answered the member groups request with HTTP 403: Insufficient privileges to complete the operation.');
    expect(error.message).not.toMatch(/secret-token/);
  });

  it('reads GitHub\'s Link header', () => {
    const header = '<https://api.github.com/user/teams?page=2>; rel="next", <https://api.github.com/user/teams?page=5>; rel="last"';
    expect(nextLink(header)).toBe('https://api.github.com/user/teams?page=2');
    expect(nextLink('<https://api.github.com/user/teams?page=1>; rel="prev"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
});
