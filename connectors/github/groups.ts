/**
 * Who may sign in through GitHub and which groups they get, by Dex's rules:
 * - `orgs`: the person must be a member of at least one listed org, and of one of its listed teams
 *   where the org lists teams; groups are `org:team` for the teams that let them in (every team of an
 *   org that lists none).
 * - `org` (legacy): the person must be a member of the org; groups are its team names, unprefixed.
 * - neither, with `loadAllGroups` and the `groups` scope: every org login, and `org:team` per team.
 * Team names are `name`, `slug` or both (`teamNameField`). A person who does not qualify gets
 * ConnectorError('not_in_allowed_groups').
 */
import { ConnectorError } from '../../src/connector.js';
import { intersectGroups } from '../groups.js';
import type { GitHubAPI, GitHubTeam } from './api.js';
import type { GitHubConfig } from './config.js';

type GroupRules = Pick<GitHubConfig, 'orgs' | 'org' | 'loadAllGroups' | 'teamNameField'>;

/** Whether groups must be read (and `read:org` asked for): an org restriction, or the groups scope. */
export function groupsRequired(config: GroupRules, groupsScope: boolean): boolean {
  return config.orgs.length > 0 || config.org !== undefined || groupsScope;
}

function teamNames(config: GroupRules, team: GitHubTeam): string[] {
  if (config.teamNameField === 'both') return [team.name, team.slug];
  return [config.teamNameField === 'slug' ? team.slug : team.name];
}

const sameOrg = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Team names of `org` among the person's teams. */
function teamsIn(config: GroupRules, teams: readonly GitHubTeam[], org: string): string[] {
  return teams.filter((team) => sameOrg(team.organization.login, org)).flatMap((team) => teamNames(config, team));
}

export async function githubGroups(
  api: GitHubAPI,
  config: GroupRules,
  token: string,
  login: string,
  groupsScope: boolean,
): Promise<string[]> {
  if (config.orgs.length > 0) return groupsForOrgs(api, config, token, login);
  if (config.org !== undefined) {
    if (!(await api.isMember(token, config.org, login))) {
      throw new ConnectorError('not_in_allowed_groups', `GitHub user "${login}" is not a member of the org "${config.org}"`);
    }
    return teamsIn(config, await api.teams(token), config.org);
  }
  if (!groupsScope || !config.loadAllGroups) return [];
  const [orgs, teams] = await Promise.all([api.orgs(token), api.teams(token)]);
  return orgs.flatMap((org) => [org, ...teamsIn(config, teams, org).map((team) => `${org}:${team}`)]);
}

async function groupsForOrgs(api: GitHubAPI, config: GroupRules, token: string, login: string): Promise<string[]> {
  const groups: string[] = [];
  let memberOfOpenOrg = false;
  let teams: GitHubTeam[] | undefined;
  for (const org of config.orgs) {
    if (!(await api.isMember(token, org.name, login))) continue;
    teams ??= await api.teams(token);
    const names = teamsIn(config, teams, org.name);
    if (org.teams.length === 0) memberOfOpenOrg = true;
    const letIn = org.teams.length === 0 ? names : intersectGroups(names, org.teams);
    groups.push(...letIn.map((team) => `${org.name}:${team}`));
  }
  if (memberOfOpenOrg || groups.length > 0) return groups;
  const required = config.orgs.map((org) => (org.teams.length > 0 ? `${org.name} (teams ${org.teams.join(', ')})` : org.name));
  throw new ConnectorError('not_in_allowed_groups', `GitHub user "${login}" is not in the required orgs or teams: ${required.join('; ')}`);
}
