/**
 * Authorization in progress, from the request (/auth, /par, /device/code) until tokens are issued: the
 * request and the login it waits for, the code, the device request; and the identity a login yields.
 */
import type { EpochMs } from '../epoch-ms.js';

/** Claims about a person as a connector returned them, kept server-side. */
export interface StoredIdentity {
  userId: string;
  username: string;
  preferredUsername?: string;
  email?: string;
  emailVerified?: boolean;
  groups?: string[];
  /** Claims the connector's claimMappings.extra made (JSON values), for the tokens. */
  extra?: Record<string, unknown>;
}

/** Where a login's second factor stands: the authenticators it passed and the one ceremony under way. */
export interface MFAProgress {
  /** mfa.authenticators ids passed in this login. */
  passed: string[];
  /** A TOTP enrollment (its new secret) or a WebAuthn ceremony (its challenge), issued to this login alone. */
  pending?: {
    kind: 'totp-enrollment' | 'webauthn-registration' | 'webauthn-assertion';
    authenticatorId: string;
    secret?: string;
    challenge?: string;
  };
}

/** An authorization request in progress, from /auth until the code is issued. */
export interface AuthRequest {
  id: string;
  clientId: string;
  redirectURI: string;
  responseType: string;
  scopes: string[];
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  prompt?: string[];
  maxAge?: number;
  loginHint?: string;
  /** Connector chosen (connector_id or the chooser). */
  connectorId?: string;
  /** Set once the person has authenticated at the connector. */
  loggedIn: boolean;
  identity?: StoredIdentity;
  /** Opaque connector state (PKCE verifier, upstream tokens); base64. Never put in a token. */
  connectorData?: string;
  /** Epoch seconds of the authentication, for auth_time and max_age. */
  authTime?: number;
  /**
   * The browser's login session this login used or started (its id becomes the tokens' `sid`); before
   * the login, the session the chooser offered (prompt=select_account).
   */
  sessionId?: string;
  /** Anti-CSRF token bound to this request's forms. */
  csrfToken: string;
  /** How the authorization response is sent: query, fragment or form_post (response_mode). */
  responseMode: 'query' | 'fragment' | 'form_post';
  /** RFC 8707 resource indicators granted for the access token; absent when none was asked. */
  resources?: string[];
  /** The acr values asked for (acr_values, else the client's defaultACRValues), in the client's order. */
  acrValues?: string[];
  /** RFC 8176 methods this login used so far (pwd, otp, hwk, mfa) and the `acr` they reach (sessions/mfa/acr.ts). */
  amr?: string[];
  acr?: string;
  /** The second factor's progress (login/mfa-*.ts); sealed at rest, as it may hold a TOTP secret. */
  mfa?: MFAProgress;
  /** SHA-256 of the browser-binding cookie of the browser that started the request (login/browser-binding.ts). */
  browserHash: string;
  /** A POSTed upstream answer (SAML, form_post) parked until its follow-up GET passes the browser check. */
  parkedLogin?: ParkedLogin;
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/** What a POSTed upstream answer established, waiting for the same browser to collect it. */
export interface ParkedLogin {
  /** SHA-256 of the one-time token the POST's redirect carried. */
  finishHash: string;
  connectorId: string;
  /** The identity read, or (when the upstream refused) why it refused. */
  identity?: StoredIdentity;
  connectorData?: string;
  denied?: string;
}

/**
 * A pushed authorization request (RFC 9126): the parameters a client posted to /par, checked there,
 * kept under the random part of its `request_uri` until /auth takes it (once) or it expires.
 */
export interface PushedAuthRequest {
  id: string;
  clientId: string;
  /** The authorization request's parameters, without client authentication. */
  params: Record<string, string>;
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/** An issued authorization code. `id` is the SHA-256 (base64url) of the code; the code itself is never stored. */
export interface AuthCode {
  id: string;
  clientId: string;
  redirectURI: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  connectorId: string;
  identity: StoredIdentity;
  connectorData?: string;
  authTime: number;
  /** Session (token family) that this code starts; its tokens carry it as `sid`. */
  sessionId: string;
  /**
   * True when `sessionId` is the browser's login session (shared by every client it signed in to),
   * not one of this code's own: the refresh family then gets an id of its own.
   */
  loginSession?: boolean;
  /** RFC 8176 authentication methods and the `acr` of the login session, for the ID token. */
  amr?: string[];
  acr?: string;
  /** RFC 8707 resources the authorization granted; the token request may narrow them. */
  resources?: string[];
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/**
 * A device authorization request (RFC 8628), from /device/code until its tokens are issued. `id` is the
 * SHA-256 (base64url) of the device code and `userCodeHash` that of the normalised user code (its index
 * key); neither code is stored. Approval copies the login onto it; polling issues tokens once.
 */
export interface DeviceRequest {
  id: string;
  userCodeHash: string;
  clientId: string;
  scopes: string[];
  /** PKCE (as Dex accepts at /device/code): the poll must send the verifier. */
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  /** SHA-256 of the secret the latest code entry's login carries back to /device/callback (in `state`). */
  callbackSecretHash?: string;
  status: 'pending' | 'approved' | 'denied' | 'issued';
  /** Seconds the client must wait between polls; grows by 5 with every slow_down. */
  interval: number;
  lastPolledAt?: EpochMs;
  /** The codes' end of life (expiry.deviceRequests); the record outlives it so late polls hear expired_token. */
  codeExpiresAt: EpochMs;
  /** Set on approval: who logged in, through which connector, in which session (token family), and how (amr, acr). */
  connectorId?: string;
  identity?: StoredIdentity;
  connectorData?: string;
  authTime?: number;
  sessionId?: string;
  amr?: string[];
  acr?: string;
  approvedAt?: EpochMs;
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/** A SAML AuthnRequest we sent; its ID must come back as InResponseTo exactly once. */
export interface SamlRequest {
  id: string;
  connectorId: string;
  authRequestId: string;
  createdAt: EpochMs;
  expiresAt: EpochMs;
}
