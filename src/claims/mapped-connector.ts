/**
 * A connector with claim rules, seen through the connector seam: every identity it returns (login,
 * callback, SAML post, refresh, token exchange) has passed its rules and been mapped, and never
 * carries the upstream's raw claims further.
 *
 * A refresh must hand the connector the identity it returned itself, not the mapped one (LDAP and the
 * password DB compare the user ID, OIDC may replay the identity unchanged), and the rules need the
 * claims again when the upstream sends none on refresh. So for a connector that refreshes, the
 * connector data idgate keeps (server-side, sealed at rest) becomes an envelope: the connector's own
 * identity and data, and the claims the rules read. A session from before the rules were added has no
 * envelope and is refreshed as it was stored.
 */
import { canRefresh, canVerifyTokens, type Connector, type Identity, type Scopes } from '../connector.js';
import type { ConnectorClaimRules } from './config.js';
import { applyConnectorClaims } from './connector-claims.js';

const ENVELOPE_PREFIX = 'idgate-claims/1\n';

interface Envelope {
  /** The identity as the connector returned it, without its data and claims. */
  identity: Omit<Identity, 'connectorData' | 'claims'>;
  /** The connector's own data, base64. */
  data?: string;
  /** The upstream claims the rules read. */
  claims?: Record<string, unknown>;
}

function seal(identity: Identity, rules: ConnectorClaimRules): Uint8Array {
  const { connectorData, claims, ...own } = identity;
  const kept = claims && rules.claimNames ? Object.fromEntries(Object.entries(claims).filter(([name]) => rules.claimNames!.has(name))) : claims;
  const envelope: Envelope = {
    identity: own,
    ...(connectorData ? { data: Buffer.from(connectorData).toString('base64') } : {}),
    ...(kept ? { claims: kept } : {}),
  };
  return new TextEncoder().encode(ENVELOPE_PREFIX + JSON.stringify(envelope));
}

/** The connector's identity and data inside a stored envelope; undefined for data stored without one. */
function unseal(data: Uint8Array | undefined): Envelope | undefined {
  const text = data ? Buffer.from(data).toString('utf8') : '';
  if (!text.startsWith(ENVELOPE_PREFIX)) return undefined;
  return JSON.parse(text.slice(ENVELOPE_PREFIX.length)) as Envelope;
}

export function withClaimRules(connector: Connector, rules: ConnectorClaimRules, connectorId: string): Connector {
  const refreshes = canRefresh(connector);
  /** The mapped identity; its data sealed with what a refresh will need. */
  const map = (identity: Identity): Identity => {
    const mapped = applyConnectorClaims(rules, identity, connectorId);
    if (!refreshes) return mapped;
    return { ...mapped, connectorData: seal(identity, rules) };
  };
  const overrides: Partial<Record<string, unknown>> = {};
  if (connector.kind === 'password') {
    overrides.login = async (scopes: Scopes, username: string, password: string, signal?: AbortSignal) => {
      const identity = await connector.login(scopes, username, password, signal);
      return identity && map(identity);
    };
  } else if (connector.kind === 'callback') {
    overrides.handleCallback = async (...args: Parameters<typeof connector.handleCallback>) => map(await connector.handleCallback(...args));
  } else {
    overrides.handlePost = async (...args: Parameters<typeof connector.handlePost>) => map(await connector.handlePost(...args));
  }
  if (refreshes) {
    overrides.refresh = async (scopes: Scopes, stored: Identity, signal?: AbortSignal) => {
      const envelope = unseal(stored.connectorData);
      if (!envelope) return connector.refresh(scopes, stored, signal);
      const own: Identity = { ...envelope.identity, ...(envelope.data ? { connectorData: Buffer.from(envelope.data, 'base64') } : {}) };
      const fresh = await connector.refresh(scopes, own, signal);
      return map(fresh.claims ? fresh : { ...fresh, ...(envelope.claims ? { claims: envelope.claims } : {}) });
    };
  }
  if (canVerifyTokens(connector)) {
    overrides.tokenIdentity = async (...args: Parameters<typeof connector.tokenIdentity>) => {
      const verified = await connector.tokenIdentity(...args);
      const { connectorData: _none, ...identity } = applyConnectorClaims(rules, verified.identity, connectorId);
      return { ...verified, identity };
    };
  }
  // Everything else (kind, prompt, loginURL, postData, metadata, close) is the connector's own, called on it.
  return new Proxy(connector, {
    get(target, property) {
      if (typeof property === 'string' && property in overrides) return overrides[property];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
