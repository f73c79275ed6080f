/**
 * The `ldap` connector (ldapts 8), Dex's password connector for a directory: search the person with
 * the service account, bind as them with the password given, read their groups. Refresh re-reads
 * the entry and the groups without a password. Every value put into a filter is RFC 4515-escaped.
 * The entry's attributes are the `claims` of claim expressions: each a list of its values (LDAP
 * attributes are multi-valued), `dn` a string; the ones the rules name are asked for too.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, SizeLimitExceededError, type Entry } from 'ldapts';
import {
  ConnectorError,
  registerConnector,
  type ConnectorContext,
  type Identity,
  type PasswordConnector,
  type RefreshConnector,
  type Scopes,
} from '../../src/connector.js';
import { applyGroupPolicy } from '../groups.js';
import { ldapConfigSchema, type LDAPConfig } from './config.js';
import { equalityFilter } from './filter.js';

/** Kept with the identity for refresh (server-side only). */
interface RefreshState {
  username: string;
  dn: string;
}

function values(entry: Entry, attribute: string): string[] {
  if (attribute.toUpperCase() === 'DN') return [entry.dn];
  const key = Object.keys(entry).find((name) => name.toLowerCase() === attribute.toLowerCase());
  const raw = key === undefined ? undefined : entry[key];
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).map((item) => (Buffer.isBuffer(item) ? item.toString('utf8') : item));
}

const first = (entry: Entry, attribute: string): string | undefined => values(entry, attribute)[0];

export class LDAPConnector implements PasswordConnector, RefreshConnector {
  readonly kind = 'password';
  private readonly url: string;
  private readonly tls: ConnectionOptions | undefined;

  constructor(
    private readonly config: LDAPConfig,
    private readonly context: ConnectorContext,
  ) {
    const secure = !config.insecureNoSSL && !config.startTLS;
    const host = /:\d+$/.test(config.host) ? config.host : `${config.host}:${secure ? 636 : 389}`;
    this.url = `${secure ? 'ldaps' : 'ldap'}://${host}`;
    if (!config.insecureNoSSL) {
      const ca = config.rootCA ? readFileSync(config.rootCA) : config.rootCAData ? Buffer.from(config.rootCAData, 'base64') : undefined;
      this.tls = {
        rejectUnauthorized: !config.insecureSkipVerify,
        ...(ca && { ca: [ca] }),
        ...(config.clientCert && config.clientKey && { cert: readFileSync(config.clientCert), key: readFileSync(config.clientKey) }),
      };
    }
  }

  prompt(): string {
    return this.config.usernamePrompt;
  }

  async login(scopes: Scopes, username: string, password: string): Promise<Identity | undefined> {
    // An empty password would be an anonymous bind, which "succeeds" for anyone.
    if (!password || !username) return undefined;
    return this.withClient(async (client) => {
      await this.bindService(client);
      const entry = await this.findUser(client, username);
      if (!entry) return undefined;
      try {
        await client.bind(entry.dn, password);
      } catch (error) {
        if (error instanceof InvalidCredentialsError) return undefined;
        throw error;
      }
      await this.bindService(client);
      return this.identity(client, scopes, username, entry);
    });
  }

  async refresh(scopes: Scopes, identity: Identity): Promise<Identity> {
    let state: RefreshState;
    try {
      state = JSON.parse(new TextDecoder().decode(identity.connectorData)) as RefreshState;
    } catch (error) {
      throw new ConnectorError('access_denied', 'the session has no directory state to refresh from; sign in again', { cause: error });
    }
    return this.withClient(async (client) => {
      await this.bindService(client);
      const entry = await this.findUser(client, state.username);
      if (!entry) throw new ConnectorError('access_denied', `user "${state.username}" is no longer in the directory`);
      const refreshed = await this.identity(client, scopes, state.username, entry);
      if (refreshed.userId !== identity.userId) {
        throw new ConnectorError('access_denied', `the directory entry for "${state.username}" now belongs to a different user`);
      }
      return refreshed;
    });
  }

  private async withClient<T>(operation: (client: Client) => Promise<T>): Promise<T> {
    // Fresh TLS options each time (ldapts writes the upgraded socket into them), and only for
    // ldaps:// at construction: given to a plain connection as well, they break StartTLS.
    const tlsOptions = this.url.startsWith('ldaps:') ? { ...this.tls } : undefined;
    const client = new Client({ url: this.url, timeout: this.config.timeout, connectTimeout: this.config.timeout, tlsOptions });
    try {
      if (this.config.startTLS) await client.startTLS({ ...this.tls });
      return await operation(client);
    } catch (error) {
      throw this.directoryError(error);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private async bindService(client: Client): Promise<void> {
    try {
      await client.bind(this.config.bindDN, this.config.bindPW);
    } catch (error) {
      if (error instanceof InvalidCredentialsError) {
        throw new ConnectorError('misconfigured', 'the directory refused the service account (bindDN/bindPW)', { cause: error });
      }
      throw error;
    }
  }

  private async findUser(client: Client, username: string): Promise<Entry | undefined> {
    const search = this.config.userSearch;
    const attributes = [
      search.username, search.idAttr, search.emailAttr, search.nameAttr,
      ...(search.preferredUsernameAttr ? [search.preferredUsernameAttr] : []),
      ...(this.config.groupSearch?.userMatchers.map((matcher) => matcher.userAttr) ?? []),
      ...this.claimAttributes(),
    ].filter((attribute) => attribute.toUpperCase() !== 'DN');
    const several = () =>
      new ConnectorError('misconfigured', `the user search matched several entries for "${username}"; make userSearch more specific`);
    try {
      const { searchEntries } = await client.search(search.baseDN, {
        scope: search.scope,
        filter: equalityFilter(search.username, username, search.filter),
        attributes: [...new Set(attributes)],
        sizeLimit: 2,
      });
      if (searchEntries.length > 1) throw several();
      return searchEntries[0];
    } catch (error) {
      if (error instanceof SizeLimitExceededError) throw several();
      throw error;
    }
  }

  private async identity(client: Client, _scopes: Scopes, username: string, entry: Entry): Promise<Identity> {
    const search = this.config.userSearch;
    const userId = first(entry, search.idAttr);
    if (!userId) throw new ConnectorError('upstream_error', `the directory entry for "${username}" has no ${search.idAttr} (idAttr)`);
    const name = first(entry, search.nameAttr) ?? username;
    const email = search.emailSuffix ? `${name}@${search.emailSuffix}` : first(entry, search.emailAttr);
    if (!email) throw new ConnectorError('upstream_error', `the directory entry for "${username}" has no ${search.emailAttr} (emailAttr)`);
    const state: RefreshState = { username, dn: entry.dn };
    return {
      userId,
      username: name,
      preferredUsername: search.preferredUsernameAttr ? first(entry, search.preferredUsernameAttr) : undefined,
      email,
      emailVerified: true,
      groups: this.config.groupSearch ? await this.groups(client, name, entry) : undefined,
      connectorData: new TextEncoder().encode(JSON.stringify(state)),
      claims: this.claimsOf(entry),
    };
  }

  /** Attributes the claim rules read: by name, or every user attribute when a rule reads `claims` whole. */
  private claimAttributes(): string[] {
    const names = this.context.claimNames;
    if (names === undefined) return [];
    return names === 'all' ? ['*'] : [...names];
  }

  /** The entry as claims: each attribute a list of values under the name the rules use for it. */
  private claimsOf(entry: Entry): Record<string, unknown> {
    const names = this.context.claimNames;
    const keys = names === undefined || names === 'all' ? Object.keys(entry).filter((key) => key !== 'dn') : [...names].filter((name) => name !== 'dn');
    const claims: Record<string, unknown> = { dn: entry.dn };
    for (const key of keys) {
      const found = values(entry, key);
      if (found.length > 0) claims[key] = found;
    }
    return claims;
  }

  private async groups(client: Client, name: string, entry: Entry): Promise<string[]> {
    const search = this.config.groupSearch!;
    const found: string[] = [];
    for (const matcher of search.userMatchers) {
      for (const value of values(entry, matcher.userAttr)) {
        const { searchEntries } = await client.search(search.baseDN, {
          scope: search.scope,
          filter: equalityFilter(matcher.groupAttr, value, search.filter),
          attributes: [search.nameAttr],
        });
        for (const group of searchEntries) found.push(...values(group, search.nameAttr));
      }
    }
    return applyGroupPolicy(name, found, {
      allowedGroups: this.config.allowedGroups,
      narrowToAllowed: this.config.filterGroups,
      prefix: this.config.modifyGroupNames?.prefix,
      suffix: this.config.modifyGroupNames?.suffix,
    });
  }

  private directoryError(error: unknown): ConnectorError {
    if (error instanceof ConnectorError) return error;
    const message = (error as Error | undefined)?.message ?? String(error);
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    if (errno || /timeout|timed out|connect|socket|closed/i.test(message)) {
      this.context.logger.warn({ connector: this.context.id, err: message }, 'ldap directory unavailable');
      return new ConnectorError('upstream_unavailable', `the directory at ${this.config.host} could not be reached (${message})`, { cause: error });
    }
    return new ConnectorError('upstream_error', `the directory answered with an error: ${message}`, { cause: error });
  }
}

registerConnector<LDAPConfig>('ldap', {
  kind: 'password',
  configSchema: ldapConfigSchema,
  async open(config, context) {
    return new LDAPConnector(config, context);
  },
});
