/**
 * Groups from the Google Workspace Admin SDK directory. A service account with domain-wide delegation
 * gets a token by Google's server-to-server flow (the RFC 7523 JWT bearer grant at the key file's
 * `token_uri`, a JWT signed with the account's key naming the admin it acts as and the
 * admin.directory.group.readonly scope), then lists GET /admin/directory/v1/groups?userKey=<email>
 * (paged by pageToken). With fetchTransitiveGroupMembership each group's own groups are listed too,
 * every group once.
 */
import { readFile } from 'node:fs/promises';
import { SignJWT, importPKCS8, type CryptoKey } from 'jose';
import { z } from 'zod';
import { ConnectorError } from '../../src/connector.js';
import type { UpstreamFetch } from '../oidc/tls-fetch.js';
import { upstreamError } from '../oidc/upstream.js';
import { UpstreamAPI, parseBody, readPages } from '../upstream-api.js';
import { isLoopback } from '../upstream-config.js';

const SCOPE = 'https://www.googleapis.com/auth/admin.directory.group.readonly';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const keyFileSchema = z.object({
  client_email: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY', { error: 'is not a PEM private key' }),
  private_key_id: z.string().optional(),
  token_uri: z.url().default('https://oauth2.googleapis.com/token'),
});
const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive().default(3600) });
const groupsPage = z.object({
  groups: z.array(z.object({ email: z.string().min(1) })).default([]),
  nextPageToken: z.string().optional(),
});

export interface ServiceAccount {
  clientEmail: string;
  keyId?: string;
  key: CryptoKey;
  tokenURI: string;
}

/** Reads and checks the key file when the connector opens, so `idgate check` reports a bad one. */
export async function readServiceAccount(path: string): Promise<ServiceAccount> {
  let parsed: z.output<typeof keyFileSchema>;
  try {
    parsed = keyFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    const reason = error instanceof z.ZodError ? error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ') : (error as Error).message;
    throw new Error(`serviceAccountFilePath: ${path} is not a service account key file: ${reason}`, { cause: error });
  }
  if (!parsed.token_uri.startsWith('https:') && !isLoopback(parsed.token_uri)) {
    throw new Error(`serviceAccountFilePath: token_uri ${parsed.token_uri} must be an https URL`);
  }
  return {
    clientEmail: parsed.client_email,
    ...(parsed.private_key_id && { keyId: parsed.private_key_id }),
    key: await importPKCS8(parsed.private_key, 'RS256'),
    tokenURI: parsed.token_uri,
  };
}

export class Directory {
  private readonly api: UpstreamAPI;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly account: ServiceAccount,
    /** Workspace domain -> admin email; "*" for any domain. */
    private readonly admins: Record<string, string>,
    private readonly directoryURL: string,
    private readonly fetch: UpstreamFetch,
    private readonly timeout: number,
    private readonly now: () => number,
  ) {
    this.api = new UpstreamAPI(fetch, timeout);
  }

  /** The group emails of `email` (a person or, when transitive, a group); each group once. */
  async groupsOf(email: string, transitive: boolean, seen = new Set<string>()): Promise<string[]> {
    const token = await this.accessToken(this.adminFor(email));
    const first = new URL(`${this.directoryURL}/admin/directory/v1/groups`);
    first.searchParams.set('userKey', email);
    const pages = await readPages(first.href, 'directory groups', async (url) => {
      const { body } = await this.api.get(url, token, 'directory groups');
      const page = parseBody(groupsPage, body, 'directory groups');
      const next = new URL(first);
      if (page.nextPageToken) next.searchParams.set('pageToken', page.nextPageToken);
      return { value: page.groups, next: page.nextPageToken ? next.href : undefined };
    });
    const groups: string[] = [];
    for (const group of pages.flat()) {
      if (seen.has(group.email)) continue;
      seen.add(group.email);
      groups.push(group.email);
      if (transitive) groups.push(...(await this.groupsOf(group.email, true, seen)));
    }
    return groups;
  }

  private adminFor(email: string): string {
    const domain = email.includes('@') ? email.slice(email.lastIndexOf('@') + 1) : '*';
    const admin = this.admins[domain] ?? this.admins['*'];
    if (!admin) {
      throw new ConnectorError('misconfigured', `domainToAdminEmail names no admin for the domain "${domain}" and has no "*" entry`);
    }
    return admin;
  }

  /** A directory token acting as `admin`, reused until a minute before it expires. */
  private async accessToken(admin: string): Promise<string> {
    const cached = this.tokens.get(admin);
    if (cached && cached.expiresAt - 60_000 > this.now()) return cached.token;
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(this.account.keyId && { kid: this.account.keyId }) })
      .setIssuer(this.account.clientEmail)
      .setSubject(admin)
      .setAudience(this.account.tokenURI)
      .setIssuedAt(Math.floor(this.now() / 1000))
      .setExpirationTime(Math.floor(this.now() / 1000) + 3600)
      .sign(this.account.key);
    const body = new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString();
    let response: Response;
    try {
      response = await this.fetch(this.account.tokenURI, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeout),
      });
    } catch (error) {
      throw upstreamError(error, 'service account token');
    }
    const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      const reason = [answer.error, answer.error_description].filter((part) => typeof part === 'string').join(': ');
      throw new ConnectorError('upstream_error', `Google refused the service account's directory token (HTTP ${response.status}${reason ? `, ${reason}` : ''}); check domain-wide delegation for ${this.account.clientEmail}`);
    }
    const { access_token: token, expires_in: expiresIn } = parseBody(tokenSchema, answer, 'service account token');
    this.tokens.set(admin, { token, expiresAt: this.now() + expiresIn * 1000 });
    return token;
  }
}
