/**
 * Remembered consent: the scopes a person approved for a client (per user at a connector, per client),
 * so the approval page comes back only when a request asks for more than that, or sends prompt=consent.
 * `skipApprovalScreen` (the client's, else Dex's global oauth2.skipApprovalScreen) skips the page
 * altogether. The person sees and withdraws consents on the account page (login/account.ts).
 */
import type { IssuerContext } from '../oidc/context.js';
import { hashToken } from '../storage/secrets.js';
import { AlreadyExistsError, NotFoundError, type Client, type Consent, type EpochMs, type Storage } from '../storage/storage.js';

/** Who consented to which client. */
export interface ConsentSubject {
  /** The `sub` tokens carry (user at connector). */
  subject: string;
  userId: string;
  connectorId: string;
  clientId: string;
}

/** `openid` asks for nothing beyond the sign-in itself, which the person is doing. */
const IMPLIED_SCOPES = new Set(['openid']);

export function consentId(subject: string, clientId: string): string {
  return hashToken(JSON.stringify([subject, clientId]));
}

/** The client's own skipApprovalScreen when it sets one, else oauth2.skipApprovalScreen. */
export function approvalScreenSkipped(config: IssuerContext['config'], client: Pick<Client, 'skipApprovalScreen'>): boolean {
  return client.skipApprovalScreen ?? config.oauth2.skipApprovalScreen;
}

/** True when the remembered consent lists every scope asked for. */
export function consentCovers(consent: Pick<Consent, 'scopes'> | undefined, scopes: readonly string[]): boolean {
  return consent !== undefined && scopes.every((scope) => IMPLIED_SCOPES.has(scope) || consent.scopes.includes(scope));
}

/** Whether the approval page must be shown before this request is answered. */
export async function consentNeeded(
  ctx: Pick<IssuerContext, 'config' | 'storage'>,
  request: { client: Pick<Client, 'id' | 'skipApprovalScreen'>; subject: string; scopes: readonly string[]; prompt?: readonly string[] },
): Promise<boolean> {
  if (request.prompt?.includes('consent')) return true;
  if (approvalScreenSkipped(ctx.config, request.client)) return false;
  return !consentCovers(await ctx.storage.consents.get(consentId(request.subject, request.client.id)), request.scopes);
}

/** Adds `scopes` to what the person consented to for the client (creating the record the first time). */
export async function rememberConsent(storage: Pick<Storage, 'consents'>, who: ConsentSubject, scopes: readonly string[], now: EpochMs): Promise<Consent> {
  const id = consentId(who.subject, who.clientId);
  for (;;) {
    try {
      return await storage.consents.update(id, (current) => ({
        ...current,
        scopes: [...new Set([...current.scopes, ...scopes])],
        updatedAt: now,
      }));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const record: Consent = { id, ...who, scopes: [...new Set(scopes)], createdAt: now, updatedAt: now };
    try {
      await storage.consents.create(record);
      return record;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error; // given meanwhile elsewhere: add to it
    }
  }
}

/** The person's consents, newest first. */
export async function listConsents(storage: Pick<Storage, 'consents'>, subject: string): Promise<Consent[]> {
  return (await storage.consents.list({ index: subject })).sort((a, b) => b.updatedAt - a.updatedAt);
}

/** Forgets the consent; returns what was forgotten (undefined if there was none). */
export async function withdrawConsent(storage: Pick<Storage, 'consents'>, subject: string, clientId: string): Promise<Consent | undefined> {
  return storage.consents.take(consentId(subject, clientId));
}
