/**
 * What an operator registers, in the config file (`static`, read-only in storage) or through the
 * management API: clients and their metadata, password DB users, connectors.
 */

/**
 * A client's registration metadata beyond Dex's fields (RFC 7591 names in camelCase). Absent means the
 * default each field documents; the config schema and the management API fill the same fields.
 */
export interface ClientMetadata {
  /** RFC 7591 grant_types this client may use; absent: authorization_code, refresh_token, device code and password (where enabled). */
  grantTypes?: string[];
  /** RFC 7591 token_endpoint_auth_method; absent: client_secret_basic or _post (confidential), none (public). */
  tokenEndpointAuthMethod?: string;
  /** RFC 7591 jwks: the client's public keys (private_key_jwt). */
  jwks?: { keys: Array<Record<string, unknown>> };
  /** RFC 7591 jwks_uri: where the client's public keys are fetched from. */
  jwksURI?: string;
  /** Scopes this client may ask for; absent: any scope idgate knows. */
  scopes?: string[];
  /** RFC 8707 resource indicators this client may ask tokens for. */
  resources?: string[];
  /** RFC 9126: this client must push its authorization requests (PAR). */
  requirePushedAuthorizationRequests?: boolean;
  /** Dex's mfaChain: authenticators (mfa.authenticators ids) its logins must pass, in order; [] means none, absent the default chain. */
  mfaChain?: string[];
  /** OpenID registration default_acr_values: the acr values of a request that names none. */
  defaultACRValues?: string[];
  /** RFC 8705 tls_client_auth_subject_dn: the RFC 4514 subject DN of the client's certificate (tls_client_auth). */
  tlsClientAuthSubjectDN?: string;
  /** RFC 8705 tls_client_auth_san_dns / _uri / _ip / _email: a subjectAltName entry the certificate must have. */
  tlsClientAuthSANDNS?: string;
  tlsClientAuthSANURI?: string;
  tlsClientAuthSANIP?: string;
  tlsClientAuthSANEmail?: string;
  /** RFC 8705 tls_client_certificate_bound_access_tokens: access tokens are bound to the client's certificate. */
  tlsClientCertificateBoundAccessTokens?: boolean;
  /** RFC 9449 dpop_bound_access_tokens: every token request must carry a DPoP proof. */
  dpopBoundAccessTokens?: boolean;
  /** Dex's oauth2.skipApprovalScreen for this client alone; absent: the global value. */
  skipApprovalScreen?: boolean;
  /** Groups a person must be in (one of) to sign in to this client; empty or absent: anyone. */
  allowedGroups?: string[];
  /** OpenID RP-Initiated Logout post_logout_redirect_uris: where /logout may send the browser back (exact match). */
  postLogoutRedirectURIs?: string[];
  /** OpenID Back-Channel Logout backchannel_logout_uri: where logout tokens are POSTed. */
  backchannelLogoutURI?: string;
  /** OpenID Back-Channel Logout backchannel_logout_session_required: logout tokens carry `sid`. */
  backchannelLogoutSessionRequired?: boolean;
}

export interface Client extends ClientMetadata {
  id: string;
  /** `sha256$<base64url>` of the secret; null for a public client. Never the plaintext. */
  secretHash: string | null;
  redirectURIs: string[];
  trustedPeers: string[];
  public: boolean;
  name: string;
  logoURL?: string;
  /** Connector IDs this client may log in through; empty or absent means all. */
  allowedConnectors?: string[];
  /** Require PKCE even though the client is confidential. */
  requirePKCE?: boolean;
  /** True for clients that come from the config file; they cannot be changed through storage. */
  static?: boolean;
}

export interface Password {
  /** Lowercased email: the login name and the record key. */
  id: string;
  email: string;
  /** bcrypt hash. */
  hash: string;
  username: string;
  userId: string;
  groups?: string[];
  preferredUsername?: string;
  emailVerified?: boolean;
  static?: boolean;
}

export interface ConnectorRecord {
  id: string;
  type: string;
  name: string;
  /** The connector's own config, as validated JSON. */
  config: unknown;
  /** Grants this connector may serve (Dex's connectors[].grantTypes); absent or empty: all. */
  grantTypes?: string[];
  static?: boolean;
}
