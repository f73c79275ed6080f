/**
 * `idgate sessions list|revoke --config FILE --user USER_ID [--connector ID] [--client CLIENT_ID]`: an
 * operator lists a user's sessions (refresh-token families, found by the user-ID index) or revokes
 * them. Revoking goes through the same `revokeSession` as the token endpoint: the family is deleted
 * and `sid:<id>` is denied until its tokens expire, which every filter learns through its revocation
 * feed. Without --client it first revokes the user's subject at each connector (`revokeSubject`), which
 * also ends the sessions that have no refresh token and so are not stored.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile, type Config } from '../config/load.js';
import { revokeSession, revokeSubject } from '../oidc/revocation.js';
import { openStorage } from '../storage/open.js';
import type { RefreshToken, Storage } from '../storage/storage.js';
import { commandRequest, openAuditStream, type AuditLog, type AuditStream } from '../telemetry/audit.js';

export interface SessionsIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const SESSIONS_USAGE = `Usage:
  idgate sessions list   --config FILE --user USER_ID [--connector ID]
  idgate sessions revoke --config FILE --user USER_ID [--connector ID] [--client CLIENT_ID]

USER_ID is the connector's user ID (Dex's userID; the federated_claims.user_id claim), not the sub.
list shows the sessions with a refresh token (offline_access): only those are stored.
revoke ends them, and without --client also revokes every token of the user issued until now at the
connector given (default: every connector, configured or stored), including sessions without a refresh token;
filters and /userinfo refuse those tokens, codes not yet redeemed are refused. A login after the
revocation works again. With --client only that client's stored sessions are revoked.
`;

class UsageError extends Error {}

interface SessionsArgs {
  action: 'list' | 'revoke';
  configFile: string;
  userId: string;
  connectorId?: string;
  clientId?: string;
}

function parseSessionsArgs(args: string[]): SessionsArgs {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, user: { type: 'string' }, connector: { type: 'string' }, client: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, ...extra] = positionals;
  if (action !== 'list' && action !== 'revoke') throw new UsageError(action ? `unknown action "${action}"` : 'an action is required');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (!values.config) throw new UsageError('--config FILE is required');
  if (!values.user) throw new UsageError('--user USER_ID is required');
  if (action === 'list' && values.client !== undefined) throw new UsageError('--client applies to revoke only');
  return {
    action, configFile: values.config, userId: values.user,
    ...(values.connector !== undefined ? { connectorId: values.connector } : {}),
    ...(values.client !== undefined ? { clientId: values.client } : {}),
  };
}

async function openSharedStorage(config: Config): Promise<Storage> {
  if (config.storage.type === 'memory') {
    throw new Error('storage type memory lives inside the serving process; sessions can only be managed on sqlite3 or postgres storage');
  }
  return openStorage(config.storage);
}

/** The connector IDs of the config file: the configured ones, the password DB's `local` (stored ones come from storage). */
function configuredConnectorIds(config: Config): string[] {
  return [...(config.enablePasswordDB ? ['local'] : []), ...config.connectors.map((connector) => connector.id)];
}

function describeSession(session: RefreshToken): string {
  const time = (ms: number) => new Date(ms).toISOString();
  return [session.id, session.clientId, session.connectorId, `created ${time(session.createdAt)}`, `last used ${time(session.lastUsedAt)}`, `expires ${time(session.expiresAt)}`].join('\t');
}

/**
 * The issuer's audit stream as config.audit asks, with stderr in place of stdout (stdout is this
 * command's answer); every event carries this run's request id and origin "sessions-cli".
 */
function commandAudit(config: Config, io: SessionsIo): { audit: AuditLog; stream: AuditStream } {
  const stream = openAuditStream(config.audit, Date.now, { write: (line) => io.stderr(line) });
  const request = commandRequest('sessions-cli');
  return { stream, audit: { write: (event) => stream.within(request, () => stream.write(event)), within: stream.within } };
}

export async function runSessionsCommand(args: string[], io: SessionsIo): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
    io.stdout(SESSIONS_USAGE);
    return 0;
  }
  let parsed: SessionsArgs;
  try {
    parsed = parseSessionsArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    io.stderr(`idgate sessions: ${(error as Error).message}\n\n${SESSIONS_USAGE}`);
    return 2;
  }
  const config = await loadConfigFile(parsed.configFile);
  const storage = await openSharedStorage(config);
  const { audit, stream } = commandAudit(config, io);
  try {
    const configured = configuredConnectorIds(config);
    const stored = (await storage.connectors.list()).map((connector) => connector.id).filter((id) => !configured.includes(id));
    const known = [...configured, ...stored];
    if (parsed.connectorId !== undefined && !known.includes(parsed.connectorId)) {
      io.stderr(`idgate sessions: --connector: no connector "${parsed.connectorId}" in ${parsed.configFile} or in storage (configured: ${configured.join(', ') || 'none'}; stored: ${stored.join(', ') || 'none'})\n`);
      return 2;
    }
    const deps = { storage, config, audit, now: Date.now };
    // Subjects first: a family created while the sessions below are read is refused by this instant.
    const subjects = parsed.action === 'revoke' && parsed.clientId === undefined ? (parsed.connectorId !== undefined ? [parsed.connectorId] : known) : [];
    const revokedSubjects: string[] = [];
    for (const connectorId of subjects) {
      revokedSubjects.push(`${await revokeSubject(deps, { userId: parsed.userId, connectorId }, 'revoked_by_admin')} (connector ${connectorId})`);
    }
    const sessions = (await storage.refreshTokens.list({ index: parsed.userId })).filter((session) =>
      (parsed.clientId === undefined || session.clientId === parsed.clientId) &&
      (parsed.connectorId === undefined || session.connectorId === parsed.connectorId));
    if (parsed.action === 'list') {
      for (const session of sessions) io.stdout(`${describeSession(session)}\n`);
      io.stdout(`${sessions.length} session(s) of user ${parsed.userId}\n`);
      return 0;
    }
    for (const session of sessions) {
      await revokeSession(deps, { sessionId: session.id, userId: parsed.userId, clientId: session.clientId }, 'revoked_by_admin');
    }
    const scope = parsed.clientId === undefined ? '' : ` for client ${parsed.clientId}`;
    io.stdout(`revoked ${sessions.length} session(s) of user ${parsed.userId}${scope}\n`);
    for (const subject of revokedSubjects) io.stdout(`revoked every token issued until now to sub ${subject}\n`);
    return 0;
  } finally {
    await storage.close();
    await stream.end();
  }
}
