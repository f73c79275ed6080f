/**
 * A real upstream OpenID Provider for the OIDC connector's tests: panva's oidc-provider on
 * 127.0.0.1, with its own RSA key, accounts the test controls, and an interaction endpoint that
 * logs in `nextAccount` and grants consent, so plain HTTP (a "browser" that follows redirects with
 * cookies) gets a genuine authorization code back at the callback.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTLSServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import type { UpstreamFetch } from '../../../connectors/oidc/tls-fetch.js';

/** The slice of oidc-provider's API used here (the package ships no types; loaded untyped below). */
interface KoaContext {
  path: string;
  req: IncomingMessage;
  res: ServerResponse;
  respond: boolean;
  oidc: { result?: { consent?: { grantId?: string } }; session?: { grantIdFor(clientId: string): string | undefined }; client?: { clientId: string } };
}
interface GrantInstance {
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
interface ProviderInstance {
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{
    prompt: { name: string; details?: { missingResourceScopes?: Record<string, string[]> } };
    params: Record<string, unknown>;
    session?: { accountId: string };
  }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, options?: object): Promise<void>;
  Grant: { new (options: { accountId: string; clientId: string }): GrantInstance; find(id: string): Promise<unknown> };
}
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

const OIDC_PROVIDER = 'oidc-provider';

export interface Account {
  sub: string;
  name: string;
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  groups?: string[];
  /** A disabled account makes the upstream refuse refresh (findAccount returns nothing). */
  disabled?: boolean;
}

export interface UpstreamIdP {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, Account>;
  /** Who the next interaction logs in. */
  nextAccount: string;
  /** The key the provider signs ID tokens with (tests re-sign tampered tokens with it). */
  signingKey: CryptoKey;
  kid: string;
  close(): Promise<void>;
}

export async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startUpstreamIdP(options: {
  redirectURIs: string[];
  conformIdTokenClaims?: boolean;
  port?: number;
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** oidc-provider settings laid over the ones below (`features` merged key by key), e.g. for bench/peer. */
  configuration?: Record<string, unknown> & { features?: Record<string, unknown> };
}): Promise<UpstreamIdP> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'upstream-test-key';
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const accounts = new Map<string, Account>();
  const server: Server = options.tls ? createTLSServer(options.tls) : createServer();
  const port = await listen(server, options.port);
  const issuer = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const idp: UpstreamIdP = {
    issuer,
    clientId: 'idgate',
    clientSecret: 'upstream-secret-for-tests',
    accounts,
    nextAccount: '',
    signingKey: privateKey,
    kid,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };

  const { default: Provider } = (await import(OIDC_PROVIDER)) as { default: ProviderClass };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: idp.clientId,
        client_secret: idp.clientSecret,
        redirect_uris: options.redirectURIs,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['upstream-cookie-key-for-tests'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    conformIdTokenClaims: options.conformIdTokenClaims ?? false,
    ...options.configuration,
    features: { devInteractions: { enabled: false }, ...options.configuration?.features },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: unknown, id: string) {
      const account = accounts.get(id);
      if (!account || account.disabled) return undefined;
      return {
        accountId: id,
        async claims() {
          const { disabled: _disabled, ...claims } = account;
          return claims;
        },
      };
    },
    async loadExistingGrant(ctx: KoaContext) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      return grantId ? provider.Grant.find(grantId) : undefined;
    },
  });

  // The interaction endpoint: log in `nextAccount`, then grant what the client asked for.
  provider.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/interaction/')) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: idp.nextAccount } }, { mergeWithLastSubmission: false });
      ctx.respond = false;
      return;
    }
    const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    // With resource indicators on, the scopes of each resource asked for are granted too.
    for (const [resource, scopes] of Object.entries(details.prompt.details?.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    ctx.respond = false;
  });
  server.on('request', provider.callback());
  return idp;
}

/**
 * Plays the browser at the upstream: follows redirects with cookies from `url` until one leaves for
 * `callbackPrefix`, and returns that callback URL (with code, state and iss).
 */
export async function browseUpstream(url: string, callbackPrefix: string, fetchWith: UpstreamFetch = fetch as UpstreamFetch): Promise<URL> {
  const cookies = new Map<string, string>();
  let next = new URL(url);
  for (let hop = 0; hop < 10; hop++) {
    if (next.href.startsWith(callbackPrefix)) return next;
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetchWith(next.href, { method: 'GET', redirect: 'manual', headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(5000) });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`upstream stopped at ${next.href} with ${response.status}: ${(await response.text()).slice(0, 300)}`);
    next = new URL(location, next);
  }
  throw new Error('too many redirects at the upstream');
}
