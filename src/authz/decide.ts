/**
 * The decision pipeline: CheckInput -> target workload -> PeerAuthentication -> peer identity -> JWT
 * (RequestAuthentication) -> token binding (DPoP proof, client certificate; every request, cached
 * token or not) -> AuthorizationPolicy (DENY, then ALLOW; AUDIT marks; dry-run shadows) -> CheckResult.
 * One instance per filter; the policy set is swapped atomically on reload.
 */
import { auditPath } from './audit.js';
import type { CheckInput, CheckResult, HeaderToSet } from './check-input.js';
import type { FilterConfig } from './config.js';
import { BindingError } from './binding/binding-error.js';
import type { BindingKind } from './binding/confirmation.js';
import { TokenBinding } from './binding/token-binding.js';
import type { Authentication } from './jwt/authenticate.js';
import { isDpopScheme, type TokenLocation } from './jwt/locate-token.js';
import { signatureVerifier } from './jwt/verify-signature.js';
import { peerIdentityFrom, type PeerIdentity } from './peer/spiffe.js';
import { DEFAULT_SPACE_DELIMITED, type RequestAttributes } from './policy/attributes.js';
import { defaultEscapedSlashesAction, normalizeRequestPath, type PathNormalizationOptions } from './policy/normalize-path.js';
import type { PolicySet, TargetWorkload, WorkloadPolicy } from './policy/policy-set.js';
import { type RevocationCheck } from './revocations.js';
import { percentEncodeForQuotedString } from './identity-headers.js';
import { UpstreamMutationMemo } from './upstream-mutation-memo.js';
import { isBrowserNavigation, type BrowserSignIn } from './signin/browser-sign-in.js';

/** What the engine needs from JWT authentication (the Authenticator, or explain's offline stand-in). */
export interface RequestAuthenticator {
  authenticate(request: { headers: Readonly<Record<string, string | undefined>>; path: string }, rules: WorkloadPolicy['jwtRules']): Promise<Authentication>;
}

export const RBAC_DENIED_BODY = 'RBAC: access denied';
/** On a deferred sign-in step: the header nginx reads (auth_request_set) to ask /nginx/signin for the answer. */
const SIGN_IN_HEADER = 'x-idgate-sign-in';

/** Everything known about a request before the RBAC decision (explain reuses it). */
export interface PreparedRequest {
  target: TargetWorkload;
  view: WorkloadPolicy;
  peer?: PeerIdentity;
  auth: Authentication;
  /** The normalized path the decision is made on (set unless the path was refused). */
  path?: string;
  attributes?: RequestAttributes;
  /** Set when authentication already decided (STRICT without a peer, a bad token). */
  early?: CheckResult;
  /** Set when the workload signs browsers in (filter.signIn); `stale`: a session cookie was sent that is no good. */
  signIn?: { stale: boolean };
}

/** Every result has the same shape (all optional fields present), which keeps property access monomorphic. */
function newResult(decision: CheckResult['decision'], status: CheckResult['status'], reason: string, body: string, headers: HeaderToSet[] = []): CheckResult {
  return {
    decision, status, reason, body, headers, headersToRemove: [], queryParametersToRemove: [],
    jwtError: undefined, namespace: undefined, path: undefined,
    policy: undefined, rule: undefined, peerPrincipal: undefined, requestPrincipal: undefined, audit: undefined, shadow: undefined,
  };
}

function deny(status: 400 | 401 | 403, reason: string, body: string, headers: HeaderToSet[] = [], peer?: PeerIdentity): CheckResult {
  const result = newResult('deny', status, reason, body, headers);
  if (peer) result.peerPrincipal = peer.principal;
  return result;
}

/** The namespace of the VirtualService Istio names in route metadata (`istio.config`: /apis/.../namespaces/<ns>/virtual-service/<name>). */
function routeNamespace(input: CheckInput): string | undefined {
  const config = input.routeMetadata?.istio?.config;
  if (typeof config !== 'string') return undefined;
  return /\/namespaces\/([^/]+)\/virtual-service\//.exec(config)?.[1];
}

/**
 * Target workload. The namespace: context_extensions `namespace` (set per route in Envoy), else the
 * namespace of the route's VirtualService (Istio's route metadata), else the namespace in the ingress's
 * own SPIFFE identity (attributes.destination.principal: what Istio's CUSTOM provider sends), else the
 * default. Labels: context_extensions `labels` ("k=v,k2=v2"), else Envoy's destination labels. Never
 * from the client's Host: with a wildcard route it would let the client pick whose policies apply.
 */
export function targetWorkload(input: CheckInput, fallback: TargetWorkload): TargetWorkload {
  const ext = input.contextExtensions;
  if (ext?.labels !== undefined) {
    const namespace = ext.namespace || fallback.namespace;
    const labels: Record<string, string> = {};
    for (const pair of ext.labels.split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
    return { namespace, labels, key: `${namespace}\nraw:${ext.labels}` };
  }
  const namespace = ext?.namespace || routeNamespace(input) || (input.destinationPrincipal ? peerIdentityFrom(input.destinationPrincipal)?.namespace : undefined);
  if (input.destinationLabels && Object.keys(input.destinationLabels).length > 0) return { namespace: namespace || fallback.namespace, labels: input.destinationLabels };
  return namespace ? { namespace, labels: {}, key: `${namespace}\n` } : fallback;
}

/**
 * The original request URL for WWW-Authenticate, without its query or path parameters (either may
 * hold a token). Host and path are the client's, so anything outside visible ASCII (and `"`, `\\`) is
 * percent-encoded to keep the header valid on every transport.
 */
function realmOf(input: CheckInput): string {
  const url = `${input.scheme || 'http'}://${input.host}${auditPath(input.path)}`;
  return percentEncodeForQuotedString(url);
}

/** The scheme a challenge names: the one the token came under (RFC 9449 §7.1), Bearer otherwise. */
function schemeOf(location: TokenLocation | undefined): 'DPoP' | 'Bearer' {
  return location && isDpopScheme(location) ? 'DPoP' : 'Bearer';
}

function isCorsPreflight(input: CheckInput): boolean {
  return input.method === 'OPTIONS' && input.headers.origin !== undefined && input.headers['access-control-request-method'] !== undefined;
}

export class DecisionEngine {
  private policies: PolicySet;
  private readonly spaceDelimited = new WeakMap<object, ReadonlySet<string>>();
  private readonly mutations: UpstreamMutationMemo;
  private readonly envoyPaths: PathNormalizationOptions;
  private readonly rawPaths: PathNormalizationOptions;

  constructor(
    private readonly config: FilterConfig,
    policies: PolicySet,
    private readonly authenticator: RequestAuthenticator,
    /** Revoked sessions and tokens; asked after the verified-token cache, so a cached token is refused too. */
    private readonly revocations?: RevocationCheck,
    /** Sender-constrained tokens (cnf): checked on every request, after the verified-token cache. */
    private readonly binding: TokenBinding = new TokenBinding({ config, verifySignature: signatureVerifier(config.verifier), now: Date.now }),
    /** Browser sign-in (filter.signIn): session cookies as identities, the sign-in endpoints and redirects. */
    private readonly signIn?: BrowserSignIn,
  ) {
    this.policies = policies;
    this.mutations = new UpstreamMutationMemo(config.identityHeaderPrefix);
    const escapedSlashes = config.pathWithEscapedSlashesAction ?? defaultEscapedSlashesAction(config.pathNormalization);
    this.envoyPaths = { normalization: config.pathNormalization, escapedSlashes, rawTarget: false };
    this.rawPaths = { ...this.envoyPaths, rawTarget: true };
  }

  /** Atomically replaces the policy set (the caller has already prepared its key sources). */
  swap(policies: PolicySet): void {
    this.policies = policies;
  }

  get policySet(): PolicySet {
    return this.policies;
  }

  async prepare(input: CheckInput): Promise<PreparedRequest> {
    const target = targetWorkload(input, this.config.defaultWorkload);
    const view = this.policies.viewFor(target);
    // nginx and Traefik hand over the client's raw request target; Envoy (gRPC, HTTP) has normalized it already.
    const paths = input.transport === 'nginx' || input.transport === 'traefik' ? this.rawPaths : this.envoyPaths;
    const normalized = normalizeRequestPath(input.path, paths);
    if (!normalized.ok) {
      return { target, view, auth: { kind: 'anonymous' }, early: deny(400, 'invalid_path', `invalid request path: ${normalized.reason}`) };
    }
    const mode = view.mtlsMode(input.destinationPort);
    const peer = mode === 'DISABLE' ? undefined : peerIdentityFrom(input.peerPrincipal);
    if (mode === 'STRICT' && !peer) {
      return { target, view, auth: { kind: 'anonymous' }, path: normalized.path, early: deny(403, 'mtls_required', 'mTLS required: the peer presented no certificate identity (PeerAuthentication STRICT)') };
    }
    const preflight = isCorsPreflight(input);
    const auth: Authentication = preflight ? { kind: 'anonymous' } : await this.authenticator.authenticate(input, view.jwtRules);
    const prepared: PreparedRequest = { target, view, auth, path: normalized.path };
    if (peer) prepared.peer = peer;
    if (this.signIn?.signsIn(target, view)) {
      // A token decides when there is one; else the session cookie (already checked against the deny-list; never bound).
      const cookie = auth.kind === 'anonymous' && !preflight ? this.signIn.authenticate(input) : undefined;
      prepared.signIn = { stale: cookie?.stale ?? false };
      if (cookie?.auth.kind === 'authenticated') {
        prepared.auth = cookie.auth;
        prepared.attributes = this.attributes(input, normalized.path, peer, cookie.auth, undefined);
        return prepared;
      }
    }
    if (auth.kind === 'failed') {
      prepared.early = deny(auth.error.status, auth.error.status === 403 ? 'jwt_audience' : 'jwt_invalid', auth.error.message, [
        { name: 'www-authenticate', value: `${schemeOf(auth.location)} realm="${realmOf(input)}", error="invalid_token"` },
      ], peer);
      prepared.early.jwtError = auth.error.code;
      return prepared;
    }
    if (auth.kind === 'authenticated' && this.revocations?.isRevoked(auth.payload)) {
      prepared.early = deny(401, 'token_revoked', 'the token was revoked', [
        { name: 'www-authenticate', value: `${schemeOf(auth.location)} realm="${realmOf(input)}", error="invalid_token", error_description="the token was revoked"` },
      ], peer);
      return prepared;
    }
    let binding: readonly BindingKind[] | undefined;
    if (auth.kind === 'authenticated') {
      try {
        const checked = this.binding.check(input, auth, normalized.path, paths);
        binding = checked instanceof Promise ? await checked : checked;
      } catch (error) {
        if (!(error instanceof BindingError)) throw error;
        prepared.early = this.bindingDeny(input, auth.location, error, peer);
        return prepared;
      }
    }
    prepared.attributes = this.attributes(input, normalized.path, peer, auth, binding);
    return prepared;
  }

  /** 401 for a bound token used without its key or certificate (RFC 9449 §7.1, RFC 8705 §3, RFC 6750 §3.1). */
  private bindingDeny(input: CheckInput, location: TokenLocation, error: BindingError, peer: PeerIdentity | undefined): CheckResult {
    const scheme = error.oauthError === 'invalid_dpop_proof' ? 'DPoP' : schemeOf(location);
    let challenge = `${scheme} realm="${realmOf(input)}", error="${error.oauthError}", error_description="${error.message}"`;
    if (scheme === 'DPoP') challenge += `, algs="${this.binding.dpopAlgorithms}"`;
    const result = deny(401, error.oauthError === 'invalid_dpop_proof' ? 'dpop_proof_invalid' : 'token_binding', error.message, [{ name: 'www-authenticate', value: challenge }], peer);
    result.jwtError = error.code;
    return result;
  }

  private attributes(input: CheckInput, path: string, peer: PeerIdentity | undefined, auth: Authentication, binding: readonly BindingKind[] | undefined): RequestAttributes {
    const a: RequestAttributes = {
      host: input.host,
      method: input.method,
      path,
      headers: input.headers,
      spaceDelimitedClaims: DEFAULT_SPACE_DELIMITED,
    };
    if (peer) {
      a.peerPrincipal = peer.principal;
      if (peer.namespace !== undefined) a.sourceNamespace = peer.namespace;
      if (peer.serviceAccount !== undefined) a.sourceServiceAccount = peer.serviceAccount;
      if (peer.trustDomain !== undefined) a.trustDomain = peer.trustDomain;
    }
    if (input.sourceIp !== undefined) a.sourceIp = input.sourceIp;
    a.remoteIp = input.remoteIp ?? input.sourceIp;
    if (input.destinationIp !== undefined) a.destinationIp = input.destinationIp;
    if (input.destinationPort !== undefined) a.destinationPort = input.destinationPort;
    if (input.sni !== undefined) a.sni = input.sni;
    if (input.filterMetadata !== undefined) a.filterMetadata = input.filterMetadata;
    if (auth.kind === 'authenticated') {
      const { payload, rule } = auth;
      a.claims = payload;
      if (typeof payload.iss === 'string') a.issuer = payload.iss;
      if (typeof payload.sub === 'string') a.subject = payload.sub;
      if (a.issuer !== undefined && a.subject !== undefined) a.requestPrincipal = `${a.issuer}/${a.subject}`;
      a.audiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
      if (typeof payload.azp === 'string') a.presenter = payload.azp;
      if (binding) a.binding = binding;
      if (rule.spaceDelimitedClaims?.length) {
        let set = this.spaceDelimited.get(rule);
        if (!set) this.spaceDelimited.set(rule, (set = new Set([...DEFAULT_SPACE_DELIMITED, ...rule.spaceDelimitedClaims])));
        a.spaceDelimitedClaims = set;
      }
    }
    return a;
  }

  async check(input: CheckInput): Promise<CheckResult> {
    const prepared = await this.prepare(input);
    const result = prepared.signIn && this.signIn ? await this.signInStep(input, prepared, this.signIn) : this.decide(input, prepared);
    result.namespace = prepared.target.namespace;
    if (prepared.path !== undefined) result.path = prepared.path;
    return result;
  }

  /**
   * A workload that signs browsers in: its sign-in endpoints answer themselves (before any policy: a
   * person must reach them without an identity), and a browser navigation that policies deny for want
   * of an identity is sent to sign in instead of getting the 401/403 an API client gets.
   */
  private async signInStep(input: CheckInput, prepared: PreparedRequest, signIn: BrowserSignIn): Promise<CheckResult> {
    const { stale } = prepared.signIn!;
    if (!prepared.early && prepared.path !== undefined && signIn.isEndpoint(prepared.path)) {
      return input.signInDeferred ? signInRequired() : signIn.serve(input, prepared.path, stale);
    }
    const result = this.decide(input, prepared);
    const forWantOfIdentity = result.reason === 'no_allow_match' || result.reason === 'denied_by_policy';
    if (result.decision === 'deny' && forWantOfIdentity && prepared.auth.kind === 'anonymous' && isBrowserNavigation(input)) {
      return input.signInDeferred ? signInRequired() : signIn.redirectToSignIn(input, stale);
    }
    return result;
  }

  decide(input: CheckInput, prepared: PreparedRequest): CheckResult {
    if (prepared.early) return prepared.early;
    const { view, auth } = prepared;
    const attributes = prepared.attributes!;
    let result: CheckResult;
    const denied = view.deny.firstMatch(attributes);
    if (denied) {
      result = this.rbacDeny(input, auth, 'denied_by_policy');
      result.policy = denied.policy;
      result.rule = denied.index;
    } else if (!view.hasAllow) {
      result = this.allow(input, prepared, 'no_allow_policies');
    } else {
      const allowed = view.allow.firstMatch(attributes);
      if (allowed) {
        result = this.allow(input, prepared, 'allowed');
        result.policy = allowed.policy;
        result.rule = allowed.index;
      } else {
        result = this.rbacDeny(input, auth, 'no_allow_match');
      }
    }
    if (prepared.peer) result.peerPrincipal = prepared.peer.principal;
    if (attributes.requestPrincipal !== undefined) result.requestPrincipal = attributes.requestPrincipal;
    if (view.audit.size > 0) {
      const audit = view.audit.matchingPolicies(attributes);
      if (audit.length > 0) result.audit = audit;
    }
    if (view.dryRunDeny.size > 0 || view.hasDryRunAllow) result.shadow = shadowDecision(view, attributes);
    return result;
  }

  /** RBAC denial: Istio's 403, or a 401 challenge for a tokenless request when challengeAnonymous is set. */
  private rbacDeny(input: CheckInput, auth: Authentication, reason: string): CheckResult {
    if (this.config.challengeAnonymous && auth.kind === 'anonymous') {
      return deny(401, reason, 'Jwt is missing', [{ name: 'www-authenticate', value: `Bearer realm="${realmOf(input)}"` }]);
    }
    // RFC 6750: a valid token that does not grant the request is "insufficient_scope".
    const challenge = auth.kind === 'authenticated' ? [{ name: 'www-authenticate', value: `${schemeOf(auth.location)} realm="${realmOf(input)}", error="insufficient_scope"` }] : [];
    return deny(403, reason, RBAC_DENIED_BODY, challenge);
  }

  private allow(input: CheckInput, prepared: PreparedRequest, reason: string): CheckResult {
    const mutation = this.mutations.mutationFor(input, prepared.peer, prepared.auth);
    const result = newResult('allow', 200, reason, '', mutation.headers);
    result.headersToRemove = mutation.headersToRemove;
    result.queryParametersToRemove = mutation.queryParametersToRemove;
    return result;
  }
}

/** A sign-in step announced to a transport that cannot carry it (CheckInput.signInDeferred). */
function signInRequired(): CheckResult {
  return deny(401, 'signin_required', 'sign-in required', [{ name: SIGN_IN_HEADER, value: 'required' }]);
}

/** What dry-run (istio.io/dry-run) policies would have decided, for the audit line. */
function shadowDecision(view: WorkloadPolicy, attributes: RequestAttributes): NonNullable<CheckResult['shadow']> {
  const denied = view.dryRunDeny.firstMatch(attributes);
  if (denied) return { decision: 'deny', policy: denied.policy };
  if (!view.hasDryRunAllow) return { decision: 'allow' };
  const allowed = view.dryRunAllow.firstMatch(attributes);
  return allowed ? { decision: 'allow', policy: allowed.policy } : { decision: 'deny' };
}
