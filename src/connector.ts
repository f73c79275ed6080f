/**
 * The connector seam (as in Dex): small interfaces a connector implements, the Identity they return,
 * and the registry that maps a config `type` to a factory. The login flow only ever talks to these
 * interfaces; `connectors/<type>/` holds each implementation.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Tracing } from './telemetry/tracing.js';

/** The downstream scopes a connector may care about. */
export interface Scopes {
  offlineAccess: boolean;
  groups: boolean;
}

export interface Identity {
  userId: string;
  username: string;
  preferredUsername?: string;
  email?: string;
  emailVerified?: boolean;
  groups?: string[];
  /** Claims a connector's claimMappings.extra made (JSON values, docs/claims.md); they go into the tokens as they are. */
  extra?: Record<string, unknown>;
  /** Opaque per-connector state (upstream refresh token, cached SAML identity); server-side only. */
  connectorData?: Uint8Array;
  /**
   * What the upstream said about the person, as it said it (ID token + userinfo claims, directory or
   * assertion attributes, the provider's user object): the `claims` of the connector's claim
   * expressions (src/claims/). Read by them only; never stored, logged or put in a token.
   */
  claims?: Record<string, unknown>;
}

/** Username + password, checked by the connector (local password DB, LDAP). */
export interface PasswordConnector {
  readonly kind: 'password';
  /** Label for the username field ("Email address", "Username"). */
  prompt(): string;
  /** `undefined` when the credentials are wrong; throws ConnectorError for anything else. */
  login(scopes: Scopes, username: string, password: string, signal?: AbortSignal): Promise<Identity | undefined>;
}

/** A redirect to an upstream and a callback back to /callback/{connector}. */
export interface CallbackConnector {
  readonly kind: 'callback';
  /**
   * Where to send the browser. `state` must come back unchanged; `connectorData` is stored with the
   * auth request and handed to handleCallback (PKCE verifier, nonce).
   */
  loginURL(scopes: Scopes, callbackURL: string, state: string): Promise<{ url: string; connectorData?: Uint8Array }>;
  /** `url` is the full callback URL as received (query included); `body` for form_post responses. */
  handleCallback(
    scopes: Scopes,
    connectorData: Uint8Array | undefined,
    request: { url: URL; body?: Record<string, string> },
  ): Promise<Identity>;
}

/** SAML 2.0 HTTP-POST binding; RelayState is handled by the server. */
export interface SAMLConnector {
  readonly kind: 'saml';
  /** The IdP's SSO URL and the (possibly signed) base64 SAMLRequest to POST there. */
  postData(scopes: Scopes, authRequestId: string): Promise<{ ssoURL: string; samlRequest: string; requestId: string }>;
  /**
   * Validates the SAMLResponse. `authRequestId` is the auth request the RelayState named; the
   * connector checks InResponseTo against its own storage-backed request record.
   */
  handlePost(scopes: Scopes, samlResponse: string, authRequestId: string): Promise<Identity>;
  /** SP metadata XML, served at /saml/{connector}/metadata. */
  metadata?(): string;
}

/** Re-reads an identity when a refresh token is used; throws to refuse the refresh. */
export interface RefreshConnector {
  refresh(scopes: Scopes, identity: Identity, signal?: AbortSignal): Promise<Identity>;
}

/** RFC 8693 token types a connector may be asked to verify (subject_token_type). */
export type SubjectTokenType = 'urn:ietf:params:oauth:token-type:id_token' | 'urn:ietf:params:oauth:token-type:access_token';

/** What a connector learnt from a verified upstream token. */
export interface VerifiedSubjectToken {
  identity: Identity;
  /** Epoch seconds after which the upstream token is no longer good, when the connector knows. */
  expiresAt?: number;
}

/**
 * Verifies a token the upstream issued and maps it to an Identity as a login would (Dex's
 * TokenIdentityConnector), for the token exchange grant; throws ConnectorError to refuse it.
 */
export interface TokenIdentityConnector {
  tokenIdentity(subjectTokenType: SubjectTokenType, subjectToken: string, signal?: AbortSignal): Promise<VerifiedSubjectToken>;
}

export type Connector = (PasswordConnector | CallbackConnector | SAMLConnector) & Partial<RefreshConnector> & Partial<TokenIdentityConnector> & {
  /** Releases sockets, timers. */
  close?(): Promise<void>;
};

export function canRefresh(connector: Connector): connector is Connector & RefreshConnector {
  return typeof connector.refresh === 'function';
}

export function canVerifyTokens(connector: Connector): connector is Connector & TokenIdentityConnector {
  return typeof connector.tokenIdentity === 'function';
}

/** Storage a connector may need, given to it rather than reached for (SAML request records, replay cache). */
export interface ConnectorStore {
  /** Remembers an outgoing request ID until `expiresAt`. */
  saveRequest(requestId: string, authRequestId: string, expiresAt: number): Promise<void>;
  /** Consumes a request record: returns the auth request ID it was made for, once. */
  takeRequest(requestId: string): Promise<{ authRequestId: string } | undefined>;
  /** True the first time an ID is seen in `namespace`, false on a replay. */
  markUsed(namespace: string, id: string, expiresAt: number): Promise<boolean>;
}

export interface ConnectorContext {
  id: string;
  name: string;
  /** The issuer URL; callbacks are `${issuer}/callback/${id}`. */
  issuer: string;
  logger: Logger;
  store: ConnectorStore;
  now: () => number;
  /** With tracing on (telemetry.tracing): for spans around calls to the upstream. */
  tracing?: Tracing;
  /**
   * The upstream claims this connector's claim rules read (docs/claims.md), for a connector that must
   * ask for attributes by name (LDAP); 'all' when a rule reads `claims` whole. Absent: no rules.
   */
  claimNames?: ReadonlySet<string> | 'all';
}

/** Why a login failed, in words a person can read; `code` is stable for tests and audit. */
export class ConnectorError extends Error {
  constructor(
    readonly code:
      | 'upstream_unavailable'
      | 'upstream_error'
      | 'invalid_response'
      | 'not_in_allowed_groups'
      /** The upstream vouched for the person, but this connector's rules do not let them in (a hosted domain). */
      | 'account_not_allowed'
      | 'access_denied'
      | 'replay'
      | 'misconfigured',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectorError';
  }
}

export interface ConnectorFactory<C = unknown> {
  /** The `kind` of the connectors it opens, known before one is opened (the config checks which can take passwords). */
  kind: Connector['kind'];
  /** zod schema of the connector's `config` block (strict: unknown keys are errors). */
  configSchema: z.ZodType<C>;
  open(config: C, context: ConnectorContext): Promise<Connector>;
}

const registry = new Map<string, ConnectorFactory>();

export function registerConnector<C>(type: string, factory: ConnectorFactory<C>): void {
  registry.set(type, factory as ConnectorFactory);
}

export function connectorFactory(type: string): ConnectorFactory | undefined {
  return registry.get(type);
}

export function connectorTypes(): string[] {
  return [...registry.keys()].sort();
}
