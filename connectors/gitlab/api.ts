/**
 * The slice of GitLab's API the connector reads with the person's token: GET /api/v4/user (scope
 * read_user) and GET /oauth/userinfo (scope openid), whose `groups` claim lists the full paths of the
 * groups the person is a direct member of, and whose `https://gitlab.org/claims/groups/{owner,
 * maintainer,developer}` claims list where they hold that role.
 */
import { z } from 'zod';
import type { UpstreamFetch } from '../oidc/tls-fetch.js';
import { UpstreamAPI, parseBody } from '../upstream-api.js';

const userSchema = z.object({
  id: z.number().int(),
  username: z.string().min(1),
  name: z.string().nullish(),
  email: z.string().nullish(),
});
const paths = z.array(z.string()).nullish().transform((value) => value ?? []);
const userInfoSchema = z.object({
  groups: paths,
  'https://gitlab.org/claims/groups/owner': paths,
  'https://gitlab.org/claims/groups/maintainer': paths,
  'https://gitlab.org/claims/groups/developer': paths,
});

export type GitLabUser = z.output<typeof userSchema>;
export type GitLabUserInfo = z.output<typeof userInfoSchema>;

export class GitLabAPI {
  private readonly api: UpstreamAPI;

  constructor(
    private readonly baseURL: string,
    fetch: UpstreamFetch,
    timeout: number,
  ) {
    this.api = new UpstreamAPI(fetch, timeout);
  }

  async user(token: string): Promise<GitLabUser> {
    const { body } = await this.api.get(`${this.baseURL}/api/v4/user`, token, 'user');
    return parseBody(userSchema, body, 'user');
  }

  async userInfo(token: string): Promise<GitLabUserInfo> {
    const { body } = await this.api.get(`${this.baseURL}/oauth/userinfo`, token, 'userinfo');
    return parseBody(userInfoSchema, body, 'userinfo');
  }
}

/** Whether `group` is one of `paths` or below one of them ("ops" covers "ops/db", not "opsec"). */
function within(group: string, paths: readonly string[]): boolean {
  return paths.some((path) => group === path || group.startsWith(`${path}/`));
}

/**
 * The groups claim as Dex reads it: the direct groups, and with `withPermissions` a `group:role`
 * entry for the highest role the userinfo grants on the group or an ancestor.
 */
export function gitlabGroups(info: GitLabUserInfo, withPermissions: boolean): string[] {
  if (!withPermissions) return info.groups;
  const roles: Array<[string, string[]]> = [
    ['owner', info['https://gitlab.org/claims/groups/owner']],
    ['maintainer', info['https://gitlab.org/claims/groups/maintainer']],
    ['developer', info['https://gitlab.org/claims/groups/developer']],
  ];
  const qualified = info.groups.flatMap((group) => {
    const role = roles.find(([, paths]) => within(group, paths));
    return role ? [`${group}:${role[0]}`] : [];
  });
  return [...info.groups, ...qualified];
}
