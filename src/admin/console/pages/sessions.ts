/**
 * Sessions: every stored login session (refresh-token family: only sessions with offline_access are
 * stored), and for admins a revoke button per session. Revoking goes through the same revokeSession
 * as the token endpoint and `idgate sessions revoke`: the family is deleted and its `sid` denied by
 * every filter until its tokens expire. Both the revocation and a refused attempt are audited with the
 * operator as actor.
 */
import { readForm } from '../../../http/form.js';
import { html } from '../../../login/html.js';
import { revokeSession } from '../../../oidc/revocation.js';
import { ConsoleHttpError, type ConsoleRequest } from '../request.js';
import { CONSOLE_PATH } from '../config.js';
import { isoTime } from './parts.js';

function auditRequest(request: ConsoleRequest) {
  const user = request.session.user!;
  return { requestId: String(request.ctx.state.requestId ?? request.ctx.get('x-request-id') ?? '-'), clientIp: request.ctx.ip, origin: 'console', actor: user.email ?? user.subject };
}

export async function sessionsPage(request: ConsoleRequest, notice?: string): Promise<void> {
  const sessions = await request.deps.storage.refreshTokens.list();
  const admin = request.viewer.role === 'admin';
  const rows = sessions.map((s) => html`<tr data-session="${s.id}">
<td>${s.identity.email ?? s.identity.username} <span class="muted">${s.identity.userId}</span></td><td>${s.clientId}</td><td>${s.connectorId}</td>
<td>${isoTime(s.createdAt)}</td><td>${isoTime(s.lastUsedAt)}</td><td>${isoTime(s.expiresAt)}</td>
<td>${admin ? html`<form method="post" action="${CONSOLE_PATH}/sessions/revoke" class="inline"><input type="hidden" name="csrf" value="${request.viewer.csrfToken}"><input type="hidden" name="session" value="${s.id}"><button type="submit" class="danger" aria-label="Revoke the session of ${s.identity.email ?? s.identity.username} at ${s.clientId}">Revoke</button></form>` : html`<span class="muted">admins only</span>`}</td></tr>`);
  await request.render(200, {
    title: 'Sessions', section: 'sessions',
    body: html`${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<p class="muted">Sessions with a refresh token (offline_access); other sessions are not stored. ${admin ? 'Revoking ends the session and every filter refuses its tokens within a second.' : 'Revoking needs the admin role.'}</p>
<table class="data" aria-label="Sessions"><thead><tr><th scope="col">User</th><th scope="col">Client</th><th scope="col">Connector</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="7" class="muted">No stored sessions.</td></tr>`}</tbody></table>`,
  });
}

export async function revokeSessionByAdmin(request: ConsoleRequest): Promise<void> {
  const { deps } = request;
  const form = await readForm(request.ctx);
  const sessionId = form.session ?? '';
  const audit = auditRequest(request);
  if (request.viewer.role !== 'admin') {
    deps.audit.within(audit, () => deps.audit.write({ event: 'session_revoked', outcome: 'refused', reason: 'not_admin', sid: sessionId }));
    throw new ConsoleHttpError(403, 'Not allowed', 'Revoking a session needs the admin role.');
  }
  const session = await deps.storage.refreshTokens.get(sessionId);
  if (!session) throw new ConsoleHttpError(404, 'No such session', 'That session does not exist any more (it may have been revoked or expired).');
  await deps.audit.within(audit, () => revokeSession({ storage: deps.storage, config: deps.config, audit: deps.audit, now: deps.now }, { sessionId, userId: session.identity.userId, clientId: session.clientId }, 'revoked_by_admin'));
  await sessionsPage(request, `Revoked the session of ${session.identity.email ?? session.identity.username} at ${session.clientId}.`);
}
