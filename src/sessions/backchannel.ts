/**
 * OpenID Back-Channel Logout 1.0: when a login session ends, every client it signed in to that
 * registered a `backchannelLogoutURI` is POSTed a `logout_token`: a JWT of typ `logout+jwt` with iss,
 * aud (the client), iat, exp (two minutes, as Dex), jti, sub, the back-channel logout event, and `sid`
 * when the client asked for it (`backchannelLogoutSessionRequired`); never a nonce, so it can never
 * pass for an ID token. Delivery runs beside whatever ended the session, never in its way: a client
 * that cannot be reached, times out, or answers 5xx or 429 is tried again after a growing pause, each
 * attempt bounded and all of them within a total budget; a 4xx is the client refusing the token and is
 * not retried; redirects are not followed (the token goes to the registered URI or nowhere). What
 * became of each client is audited once all are done (`logout_notified`), when any had a URI.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Signer } from '../keys/keyset.js';
import { subjectOf } from '../oidc/claims.js';
import type { Client, LoginSession, Storage } from '../storage/storage.js';
import type { AuditLog } from '../telemetry/audit.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const LOGOUT_TOKEN_TYP = 'logout+jwt';
const LOGOUT_TOKEN_LIFETIME_S = 120;

export interface DeliveryPolicy {
  /** ms one POST may take. */
  attemptTimeoutMs: number;
  /** ms to wait before each retry; their count is the number of retries. */
  retryDelaysMs: readonly number[];
  /** ms all attempts to one client may take together; a retry that would start later is not made. */
  totalBudgetMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { attemptTimeoutMs: 5_000, retryDelaysMs: [1_000, 2_000, 4_000, 8_000], totalBudgetMs: 30_000 };

/** What became of one client of the session. */
export interface Delivery {
  clientId: string;
  /** delivered: 2xx; refused: another 4xx (or a redirect); failed: unreachable, timed out or 5xx/429 after every attempt; not_registered: no backchannelLogoutURI; unknown_client: gone meanwhile. */
  outcome: 'delivered' | 'refused' | 'failed' | 'not_registered' | 'unknown_client';
  attempts: number;
  status?: number;
  /** For a failure without an answer: `timeout` or `unreachable`. */
  reason?: string;
}

export interface LogoutNotifier {
  /** Tells the clients of the ended `session`; resolves (never rejects) once every delivery is over. */
  notify(session: LoginSession): Promise<Delivery[]>;
  /** Stops the deliveries under way (their clients count as failed) and waits for them to end. */
  close(): Promise<void>;
}

export interface LogoutNotifierDeps {
  storage: Pick<Storage, 'clients'>;
  signer: Pick<Signer, 'sign'>;
  issuer: string;
  audit: AuditLog;
  logger: Logger;
  now: () => number;
  policy?: DeliveryPolicy;
  fetch?: typeof fetch;
}

/** The logout token's claims for `client` (Back-Channel Logout 1.0 §2.4). */
function logoutTokenClaims(issuer: string, session: Pick<LoginSession, 'id' | 'identity' | 'connectorId'>, client: Pick<Client, 'id' | 'backchannelLogoutSessionRequired'>, now: number) {
  const iat = Math.floor(now / 1000);
  return {
    iss: issuer,
    sub: subjectOf(session.identity.userId, session.connectorId),
    aud: client.id,
    iat,
    exp: iat + LOGOUT_TOKEN_LIFETIME_S,
    jti: randomBytes(16).toString('base64url'),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    ...(client.backchannelLogoutSessionRequired ? { sid: session.id } : {}),
  };
}

/** 5xx and 429 may pass; any other answer is the client's last word. */
function retryable(status: number): boolean {
  return status >= 500 || status === 429;
}

export function createLogoutNotifier(deps: LogoutNotifierDeps): LogoutNotifier {
  const policy = deps.policy ?? DEFAULT_DELIVERY_POLICY;
  const send = deps.fetch ?? fetch;
  const stopping = new AbortController();
  const running = new Set<Promise<Delivery[]>>();

  async function post(uri: string, token: string): Promise<{ status?: number; reason?: string }> {
    try {
      const response = await send(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
        body: new URLSearchParams({ logout_token: token }).toString(),
        redirect: 'manual',
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(policy.attemptTimeoutMs)]),
      });
      await response.body?.cancel().catch(() => undefined);
      return { status: response.status };
    } catch (error) {
      return { reason: (error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable' };
    }
  }

  async function deliver(session: LoginSession, clientId: string): Promise<Delivery> {
    const client = await deps.storage.clients.get(clientId);
    if (!client) return { clientId, outcome: 'unknown_client', attempts: 0 };
    if (!client.backchannelLogoutURI) return { clientId, outcome: 'not_registered', attempts: 0 };
    const token = await deps.signer.sign(logoutTokenClaims(deps.issuer, session, client, deps.now()), { typ: LOGOUT_TOKEN_TYP });
    const started = performance.now();
    let attempts = 0;
    let last: { status?: number; reason?: string } = {};
    for (const pause of [0, ...policy.retryDelaysMs]) {
      if (pause > 0) {
        if (performance.now() - started + pause >= policy.totalBudgetMs) break;
        await sleep(pause, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
      if (stopping.signal.aborted) break;
      attempts += 1;
      last = await post(client.backchannelLogoutURI, token);
      if (last.status !== undefined && last.status >= 200 && last.status < 300) return { clientId, outcome: 'delivered', attempts, status: last.status };
      if (last.status !== undefined && !retryable(last.status)) return { clientId, outcome: 'refused', attempts, status: last.status };
    }
    return { clientId, outcome: 'failed', attempts, ...last };
  }

  async function notifyAll(session: LoginSession): Promise<Delivery[]> {
    const deliveries = await Promise.all(session.clients.map(({ clientId }) =>
      deliver(session, clientId).catch((error: unknown): Delivery => {
        deps.logger.warn({ clientId, err: { message: (error as Error).message } }, 'back-channel logout not sent');
        return { clientId, outcome: 'failed', attempts: 0, reason: 'internal' };
      })));
    // No client registered a backchannelLogoutURI: nobody to tell, nothing to audit beyond session_ended.
    if (deliveries.every((delivery) => delivery.attempts === 0 && delivery.outcome !== 'failed')) return deliveries;
    const delivered = deliveries.every((delivery) => delivery.outcome !== 'failed' && delivery.outcome !== 'refused');
    deps.audit.write({
      event: 'logout_notified',
      outcome: delivered ? 'succeeded' : 'refused',
      sid: session.id,
      userId: session.identity.userId,
      clients: deliveries,
    });
    return deliveries;
  }

  return {
    notify(session) {
      const delivery = notifyAll(session);
      running.add(delivery);
      void delivery.finally(() => running.delete(delivery));
      return delivery;
    },
    async close() {
      stopping.abort();
      await Promise.allSettled([...running]);
    },
  };
}
