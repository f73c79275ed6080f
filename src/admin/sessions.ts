/**
 * `idgate sessions list|revoke --config FILE --user USER_ID [--connector ID] [--client CLIENT_ID]` and
 * `idgate sessions end --config FILE --session SID`: an operator lists a user's browser login sessions
 * and refresh-token families (found by the user-ID index), revokes them, or ends one browser session.
 * Revoking a family goes through the same `revokeSession` as the token endpoint; ending a browser
 * session the same `endLoginSession` as /logout: `sid:<id>` is denied until its tokens expire (every
 * filter learns it through its revocation feed), its refresh tokens are deleted, and its clients are
 * told over the back channel — this command waits for them and prints what each answered. Without
 * --client, revoke first revokes the user's subject at each connector (`revokeSubject`), which also
 * ends the sessions that have no refresh token and so are not stored, then ends the user's browser
 * sessions.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile, type Config } from '../config/load.js';
import { withConfigEntries } from '../issuer.js';
import { createSigner } from '../keys/signer.js';
import { issuerUrl } from '../oidc/context.js';
import { revokeSession, revokeSubject } from '../oidc/revocation.js';
import { createLogoutNotifier, type Delivery } from '../sessions/backchannel.js';
import { endLoginSession, type EndSessionDeps } from '../sessions/end-session.js';
import { openStorage } from '../storage/open.js';
import type { LoginSession, RefreshToken, Storage } from '../storage/storage.js';
import { silentLogger } from '../telemetry/logger.js';
import { commandRequest, openAuditStream, type AuditLog, type AuditStream } from '../telemetry/audit.js';

export interface SessionsIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const SESSIONS_USAGE = `Usage:
  idgate sessions list   --config FILE --user USER_ID [--connector ID]
  idgate sessions revoke --config FILE --user USER_ID [--connector ID] [--client CLIENT_ID]
  idgate sessions end    --config FILE --session SID

USER_ID is the connector's user ID (Dex's userID; the federated_claims.user_id claim), not the sub.
list shows the user's browser login sessions (SID, the sid of their tokens) and the sessions with a
refresh token (offline_access): only those are stored.
revoke ends them, and without --client also revokes every token of the user issued until now at the
connector given (default: every connector, configured or stored), including sessions without a refresh token,
and ends the user's browser sessions; filters and /userinfo refuse those tokens, codes not yet redeemed are
refused. A login after the revocation works again. With --client only that client's refresh tokens are revoked.
end ends one browser session everywhere, as a logout would: its tokens and refresh tokens are revoked and
the clients it signed in to are told (OpenID Back-Channel Logout); the command waits for their answers.
`;

class UsageError extends Error {}

type SessionsArgs =
  | { action: 'list' | 'revoke'; configFile: string; userId: string; connectorId?: string; clientId?: string }
  | { action: 'end'; configFile: string; sessionId: string };

function parseSessionsArgs(args: string[]): SessionsArgs {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, user: { type: 'string' }, connector: { type: 'string' }, client: { type: 'string' }, session: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, ...extra] = positionals;
  if (action !== 'list' && action !== 'revoke' && action !== 'end') throw new UsageError(action ? `unknown action "${action}"` : 'an action is required');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (!values.config) throw new UsageError('--config FILE is required');
  if (action === 'end') {
    if (!values.session) throw new UsageError('--session SID is required');
    for (const other of ['user', 'connector', 'client'] as const) if (values[other] !== undefined) throw new UsageError(`--${other} does not apply to end`);
    return { action, configFile: values.config, sessionId: values.session };
  }
  if (values.session !== undefined) throw new UsageError('--session applies to end only');
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

const time = (ms: number) => new Date(ms).toISOString();

function describeSession(session: RefreshToken): string {
  return [session.id, session.clientId, session.connectorId, `created ${time(session.createdAt)}`, `last used ${time(session.lastUsedAt)}`, `expires ${time(session.expiresAt)}`].join('\t');
}

function describeLoginSession(session: LoginSession): string {
  const clients = session.clients.map((entry) => entry.clientId).join(',') || '-';
  return ['browser', session.id, session.connectorId, `signed in ${time(session.authTime * 1000)}`, `last used ${time(session.lastUsedAt)}`, `ends ${time(session.expiresAt)}`, `clients ${clients}`].join('\t');
}

function describeDelivery(delivery: Delivery): string {
  const detail = delivery.status !== undefined ? ` (HTTP ${delivery.status})` : delivery.reason ? ` (${delivery.reason})` : '';
  return `  ${delivery.clientId}: ${delivery.outcome.replace('_', ' ')}${detail}${delivery.attempts > 1 ? `, ${delivery.attempts} attempts` : ''}`;
}

/** What ending sessions needs outside the server: the config's clients over storage, and a signer for logout tokens. */
async function endSessionDeps(config: Config, storage: Storage, audit: AuditLog): Promise<EndSessionDeps> {
  const now = Date.now;
  const logger = silentLogger();
  const signer = await createSigner(storage, {
    algorithm: config.signer.config.algorithm,
    rotationPeriod: config.keysRotationPeriod,
    tokenLifetime: Math.max(config.expiry.idTokens, config.expiry.accessTokens),
    now,
    logger,
  });
  return { storage, config, audit, now, backchannel: createLogoutNotifier({ storage, signer, issuer: issuerUrl(config), audit, logger, now }) };
}

/** Ends each session, waiting for its clients' answers, and prints them; returns how many ended and the refresh tokens they revoked. */
async function endSessions(deps: EndSessionDeps, sessions: Array<{ sessionId: string; userId?: string }>, io: SessionsIo): Promise<{ ended: number; refreshTokensRevoked: number }> {
  const counts = { ended: 0, refreshTokensRevoked: 0 };
  for (const target of sessions) {
    const result = await endLoginSession(deps, target, 'revoked_by_admin');
    if (!result.session) continue;
    counts.ended += 1;
    counts.refreshTokensRevoked += result.refreshTokensRevoked;
    io.stdout(`ended browser session ${target.sessionId} (${result.refreshTokensRevoked} refresh token(s) revoked)\n`);
    for (const delivery of await result.deliveries) io.stdout(`${describeDelivery(delivery)}\n`);
  }
  return counts;
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
  const storage = withConfigEntries(await openSharedStorage(config), config);
  const { audit, stream } = commandAudit(config, io);
  try {
    if (parsed.action === 'end') {
      const { ended } = await endSessions(await endSessionDeps(config, storage, audit), [{ sessionId: parsed.sessionId }], io);
      if (ended > 0) return 0;
      io.stderr(`idgate sessions: --session: no browser session "${parsed.sessionId}" (ended or expired already; its sid is denied anyway)\n`);
      return 1;
    }
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
    const browserSessions = (await storage.loginSessions.list({ index: parsed.userId }))
      .filter((session) => parsed.connectorId === undefined || session.connectorId === parsed.connectorId);
    // Browser sessions first: ending one deletes its refresh tokens, which are then not revoked twice.
    let revokedWithBrowserSessions = 0;
    if (parsed.action === 'revoke' && parsed.clientId === undefined && browserSessions.length > 0) {
      const ending = browserSessions.map((session) => ({ sessionId: session.id, userId: parsed.userId }));
      revokedWithBrowserSessions = (await endSessions(await endSessionDeps(config, storage, audit), ending, io)).refreshTokensRevoked;
    }
    const sessions = (await storage.refreshTokens.list({ index: parsed.userId })).filter((session) =>
      (parsed.clientId === undefined || session.clientId === parsed.clientId) &&
      (parsed.connectorId === undefined || session.connectorId === parsed.connectorId));
    if (parsed.action === 'list') {
      for (const session of browserSessions) io.stdout(`${describeLoginSession(session)}\n`);
      for (const session of sessions) io.stdout(`${describeSession(session)}\n`);
      io.stdout(`${browserSessions.length} browser session(s) and ${sessions.length} session(s) of user ${parsed.userId}\n`);
      return 0;
    }
    for (const session of sessions) {
      await revokeSession(deps, { sessionId: session.id, userId: parsed.userId, clientId: session.clientId }, 'revoked_by_admin');
    }
    const scope = parsed.clientId === undefined ? '' : ` for client ${parsed.clientId}`;
    io.stdout(`revoked ${sessions.length + revokedWithBrowserSessions} session(s) of user ${parsed.userId}${scope}\n`);
    for (const subject of revokedSubjects) io.stdout(`revoked every token issued until now to sub ${subject}\n`);
    return 0;
  } finally {
    await storage.close();
    await stream.end();
  }
}
