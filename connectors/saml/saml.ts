/**
 * The `saml` connector: idgate as a SAML 2.0 service provider over the HTTP-POST binding
 * (@node-saml/node-saml for XML-DSig and encryption). AuthnRequests are recorded in storage so
 * InResponseTo is checked on any replica; assertion IDs are accepted once; refresh replays the
 * identity from the login, up to `refreshMaxAge`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SAML, ValidateInResponseTo, type Profile, type SamlConfig } from '@node-saml/node-saml';
import {
  ConnectorError,
  registerConnector,
  type ConnectorContext,
  type Identity,
  type RefreshConnector,
  type SAMLConnector as SAMLConnectorSeam,
  type Scopes,
} from '../../src/connector.js';
import { applyGroupPolicy } from '../groups.js';
import { samlConfigSchema, type SAMLConfig } from './config.js';
import { certificateSet, resolveIdP, type ResolvedIdP } from './metadata.js';
import { refuse, validateResponse, type ResponsePolicy } from './response.js';

/** How long an AuthnRequest may wait for its answer. */
const REQUEST_TTL_MS = 30 * 60_000;
/** Replay records for assertions without NotOnOrAfter are kept this long. */
const DEFAULT_ASSERTION_TTL_MS = 60 * 60_000;

/** What refresh replays (server-side only). */
interface CachedLogin {
  identity: Omit<Identity, 'connectorData'>;
  loginAt: number;
}

/** Values of an AttributeStatement attribute; never node-saml's own profile fields (issuer, nameID...). */
function attributeValues(profile: Profile, name: string): string[] {
  const attributes = profile.attributes as Record<string, unknown> | undefined;
  const raw = attributes && Object.prototype.hasOwnProperty.call(attributes, name) ? attributes[name] : undefined;
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  return list.filter((value): value is string => typeof value === 'string');
}

/** The assertion's attributes as the `claims` of claim expressions: each a list of its string values. */
function attributesOf(profile: Profile): Record<string, string[]> {
  const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.keys(attributes).map((name) => [name, attributeValues(profile, name)]));
}

export class SAMLConnector implements SAMLConnectorSeam, RefreshConnector {
  readonly kind = 'saml';
  private readonly redirectURI: string;
  private readonly entityIssuer: string;
  private readonly options: SamlConfig;
  private readonly policy: ResponsePolicy;
  private readonly signingCert?: string;
  private readonly decryptionCert?: string;

  constructor(
    private readonly config: SAMLConfig,
    private readonly context: ConnectorContext,
    idp: ResolvedIdP,
  ) {
    const read = (file: string | undefined) => (file ? readFileSync(file, 'utf8') : undefined);
    this.redirectURI = config.redirectURI ?? `${context.issuer}/callback/${context.id}`;
    this.entityIssuer = config.entityIssuer ?? this.redirectURI;
    this.signingCert = read(config.signingCert);
    this.decryptionCert = read(config.decryptionCert);
    const signingKey = read(config.signingKey);
    const decryptionKey = read(config.decryptionKey);
    this.options = {
      entryPoint: idp.ssoURL,
      issuer: this.entityIssuer,
      callbackUrl: this.redirectURI,
      audience: this.entityIssuer,
      idpCert: idp.certificates,
      // Which signatures must verify is decided per response (response.ts: checkSigned).
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      signatureAlgorithm: config.signatureAlgorithm,
      digestAlgorithm: config.signatureAlgorithm,
      identifierFormat: config.nameIDPolicyFormat,
      acceptedClockSkewMs: config.clockSkew,
      // InResponseTo is checked against our own storage-backed records, on every replica.
      validateInResponseTo: ValidateInResponseTo.never,
      authnRequestBinding: 'HTTP-POST',
      skipRequestCompression: true,
      disableRequestedAuthnContext: true,
      ...(signingKey && { privateKey: signingKey, publicCert: this.signingCert }),
      ...(decryptionKey && { decryptionPvk: decryptionKey }),
    };
    this.policy = {
      redirectURI: this.redirectURI,
      entityIssuer: this.entityIssuer,
      trustedCertificates: certificateSet(idp.certificates),
      allowSHA1: config.insecureAllowSHA1,
      ssoIssuer: idp.ssoIssuer,
    };
  }

  async postData(_scopes: Scopes, authRequestId: string): Promise<{ ssoURL: string; samlRequest: string; requestId: string }> {
    const requestId = `_${randomBytes(20).toString('hex')}`;
    const saml = new SAML({ ...this.options, generateUniqueId: () => requestId });
    const message = await saml.getAuthorizeMessageAsync('');
    await this.context.store.saveRequest(requestId, authRequestId, this.context.now() + REQUEST_TTL_MS);
    return { ssoURL: this.options.entryPoint!, samlRequest: String(message.SAMLRequest), requestId };
  }

  async handlePost(_scopes: Scopes, samlResponse: string, authRequestId: string): Promise<Identity> {
    const signed = await validateResponse(this.options, samlResponse, this.policy);
    const until = (signed.notOnOrAfter ?? this.context.now() + DEFAULT_ASSERTION_TTL_MS) + this.config.clockSkew;
    if (!(await this.context.store.markUsed(`saml-assertion:${this.context.id}`, signed.assertionId, until))) {
      throw new ConnectorError('replay', 'this SAML assertion was already used (replayed response)');
    }
    const request = await this.context.store.takeRequest(signed.inResponseTo);
    if (!request) throw refuse('InResponseTo names no pending login request (unknown, expired or already answered)');
    if (request.authRequestId !== authRequestId) throw refuse('InResponseTo belongs to a different login than this one');
    const identity = this.identityFrom(signed.profile);
    const cached: CachedLogin = { identity, loginAt: this.context.now() };
    return { ...identity, connectorData: new TextEncoder().encode(JSON.stringify(cached)), claims: attributesOf(signed.profile) };
  }

  /** Replays the identity cached at login; refused once the login is older than refreshMaxAge. */
  async refresh(_scopes: Scopes, identity: Identity): Promise<Identity> {
    let cached: CachedLogin;
    try {
      cached = JSON.parse(new TextDecoder().decode(identity.connectorData)) as CachedLogin;
    } catch (error) {
      throw new ConnectorError('access_denied', 'the session holds no SAML login to refresh from; sign in again', { cause: error });
    }
    if (typeof cached.loginAt !== 'number' || this.context.now() - cached.loginAt > this.config.refreshMaxAge) {
      throw new ConnectorError('access_denied', 'the SAML login is older than refreshMaxAge; sign in again');
    }
    return { ...cached.identity, connectorData: identity.connectorData };
  }

  metadata(): string {
    return new SAML(this.options).generateServiceProviderMetadata(this.decryptionCert ?? null, this.signingCert ?? null);
  }

  private identityFrom(profile: Profile): Omit<Identity, 'connectorData'> {
    const userId = profile.nameID;
    if (!userId) throw refuse('the assertion has no NameID');
    const [username] = attributeValues(profile, this.config.usernameAttr);
    if (!username) throw refuse(`the assertion has no "${this.config.usernameAttr}" attribute (usernameAttr)`);
    const [email] = attributeValues(profile, this.config.emailAttr);
    if (!email) throw refuse(`the assertion has no "${this.config.emailAttr}" attribute (emailAttr)`);
    let groups: string[] | undefined;
    if (this.config.groupsAttr) {
      const values = attributeValues(profile, this.config.groupsAttr);
      const delimiter = this.config.groupsDelim;
      const split = delimiter ? values.flatMap((value) => value.split(delimiter)).map((g) => g.trim()).filter(Boolean) : values;
      groups = applyGroupPolicy(username, split, {
        allowedGroups: this.config.allowedGroups,
        narrowToAllowed: this.config.filterGroups,
        prefix: this.config.modifyGroupNames?.prefix,
        suffix: this.config.modifyGroupNames?.suffix,
      });
    }
    return { userId, username, email, emailVerified: true, groups };
  }
}

registerConnector<SAMLConfig>('saml', {
  kind: 'saml',
  configSchema: samlConfigSchema,
  async open(config, context) {
    return new SAMLConnector(config, context, resolveIdP(config));
  },
});
// Dex's older name for the same connector.
registerConnector<SAMLConfig>('samlExperimental', { kind: 'saml', configSchema: samlConfigSchema, open: async (config, context) => new SAMLConnector(config, context, resolveIdP(config)) });
