/**
 * The slice of Microsoft Graph (v1.0) the connector reads with the person's token: GET /me (id,
 * displayName, userPrincipalName, mailNickname, onPremisesSamAccountName), POST /me/getMemberGroups
 * (the IDs of every group the person is in, transitively; `securityEnabledOnly`) and POST
 * /directoryObjects/getByIds (their display names, at most 1000 IDs a request), each answer paged by
 * `@odata.nextLink`.
 */
import { z } from 'zod';
import type { UpstreamFetch } from '../oidc/tls-fetch.js';
import { UpstreamAPI, parseBody, readPages } from '../upstream-api.js';

const userSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().nullish(),
  userPrincipalName: z.string().nullish(),
  mailNickname: z.string().nullish(),
  onPremisesSamAccountName: z.string().nullish(),
});
const pageOf = <T extends z.ZodType>(item: T) => z.object({ value: z.array(item), '@odata.nextLink': z.string().optional() });
const idsPage = pageOf(z.string());
const groupsPage = pageOf(z.object({ id: z.string(), displayName: z.string().nullish() }));

export type GraphUser = z.output<typeof userSchema>;

/** Graph's limit for /directoryObjects/getByIds. */
const IDS_PER_REQUEST = 1000;

export class GraphAPI {
  private readonly api: UpstreamAPI;

  constructor(
    /** e.g. https://graph.microsoft.com */
    private readonly graphURL: string,
    fetch: UpstreamFetch,
    timeout: number,
  ) {
    this.api = new UpstreamAPI(fetch, timeout);
  }

  async me(token: string): Promise<GraphUser> {
    const url = `${this.graphURL}/v1.0/me?$select=id,displayName,userPrincipalName,mailNickname,onPremisesSamAccountName`;
    const { body } = await this.api.get(url, token, 'user');
    return parseBody(userSchema, body, 'user');
  }

  memberGroupIDs(token: string, securityEnabledOnly: boolean): Promise<string[]> {
    return this.postPages(`${this.graphURL}/v1.0/me/getMemberGroups`, token, { securityEnabledOnly }, 'member groups', idsPage);
  }

  /** Display names for `ids`; `batched` splits them 1000 a request (Dex's batchGroupLookups). */
  async groupNames(token: string, ids: readonly string[], batched: boolean): Promise<string[]> {
    const size = batched ? IDS_PER_REQUEST : Math.max(ids.length, 1);
    const names: string[] = [];
    for (let start = 0; start < ids.length; start += size) {
      const request = { ids: ids.slice(start, start + size), types: ['group'] };
      const groups = await this.postPages(`${this.graphURL}/v1.0/directoryObjects/getByIds`, token, request, 'group names', groupsPage);
      names.push(...groups.flatMap((group) => (group.displayName ? [group.displayName] : [])));
    }
    return names;
  }

  /** A POST whose answer pages by @odata.nextLink (each page POSTed the same body, as Dex does). */
  private async postPages<T>(first: string, token: string, request: unknown, step: string, schema: z.ZodType<{ value: T[]; '@odata.nextLink'?: string }>): Promise<T[]> {
    const pages = await readPages(first, step, async (url) => {
      const { body } = await this.api.post(url, token, request, step);
      const page = parseBody(schema, body, step);
      return { value: page.value, next: page['@odata.nextLink'] };
    });
    return pages.flat();
  }
}
