/**
 * The slice of GitHub's REST API (v3, version 2022-11-28) the connector reads with the person's token:
 * GET /user, /user/emails, /user/orgs, /user/teams (paged by `Link: <...>; rel="next"`) and
 * /orgs/{org}/members/{login} (204 member, 302/404 not). github.com's API is api.github.com; GitHub
 * Enterprise serves it at https://<host>/api/v3.
 */
import { z } from 'zod';
import { ConnectorError } from '../../src/connector.js';
import type { UpstreamFetch } from '../oidc/tls-fetch.js';
import { UpstreamAPI, parseBody, readPages } from '../upstream-api.js';

const userSchema = z.object({
  id: z.number().int(),
  login: z.string().min(1),
  name: z.string().nullish(),
  email: z.string().nullish(),
});
const emailsSchema = z.array(z.object({ email: z.string(), verified: z.boolean(), primary: z.boolean() }));
const orgsSchema = z.array(z.object({ login: z.string() }));
const teamsSchema = z.array(z.object({ name: z.string(), slug: z.string(), organization: z.object({ login: z.string() }) }));

export type GitHubUser = z.output<typeof userSchema>;
export type GitHubEmail = z.output<typeof emailsSchema>[number];
export type GitHubTeam = z.output<typeof teamsSchema>[number];

/** The `rel="next"` target of a Link header (RFC 8288, as GitHub writes it). */
export function nextLink(header: string | null): string | undefined {
  for (const part of (header ?? '').split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

export class GitHubAPI {
  private readonly api: UpstreamAPI;

  constructor(
    /** https://api.github.com or https://<host>/api/v3 */
    private readonly base: string,
    fetch: UpstreamFetch,
    timeout: number,
  ) {
    this.api = new UpstreamAPI(fetch, timeout, { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
  }

  async user(token: string): Promise<GitHubUser> {
    const { body } = await this.api.get(`${this.base}/user`, token, 'user');
    return parseBody(userSchema, body, 'user');
  }

  async emails(token: string): Promise<GitHubEmail[]> {
    return (await this.list(`${this.base}/user/emails`, token, 'emails', emailsSchema)).flat();
  }

  /** The logins of the person's organizations. */
  async orgs(token: string): Promise<string[]> {
    return (await this.list(`${this.base}/user/orgs`, token, 'orgs', orgsSchema)).flat().map((org) => org.login);
  }

  async teams(token: string): Promise<GitHubTeam[]> {
    return (await this.list(`${this.base}/user/teams`, token, 'teams', teamsSchema)).flat();
  }

  async isMember(token: string, org: string, login: string): Promise<boolean> {
    const url = `${this.base}/orgs/${encodeURIComponent(org)}/members/${encodeURIComponent(login)}`;
    const status = await this.api.status(url, token, 'org membership');
    if (status === 204) return true;
    if (status === 302 || status === 404) return false;
    throw new ConnectorError('upstream_error', `the identity provider answered the org membership request for "${org}" with HTTP ${status}`);
  }

  private list<S extends z.ZodType>(first: string, token: string, step: string, schema: S): Promise<Array<z.output<S>>> {
    const url = new URL(first);
    url.searchParams.set('per_page', '100');
    return readPages(url.href, step, async (page) => {
      const { body, headers } = await this.api.get(page, token, step);
      return { value: parseBody(schema, body, step), next: nextLink(headers.get('link')) };
    });
  }
}
