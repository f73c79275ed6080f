/**
 * Where client certificates come from (web.tlsClientCA on the HTTPS listener, web.clientCertificate
 * from a trusted proxy) and who needs them, checked once when the config is read: every key set does
 * something, and a client whose authentication or tokens rest on a certificate has a way to get one.
 */

/** The parts of the parsed config these rules read. */
export interface CertificateSettings {
  issuer: string;
  web: {
    https?: string;
    tlsClientCA?: string;
    clientRemoteIP?: { trustedProxies: string[] };
    clientCertificate?: { xfcc: { trustedBy: string[]; forwardClientCertDetails: string }; header?: string };
    mtlsURL?: string;
  };
  staticClients: ReadonlyArray<{ tokenEndpointAuthMethod?: string; tlsClientCertificateBoundAccessTokens?: boolean }>;
}

export interface CertificateIssue {
  path: Array<string | number>;
  message: string;
}

/** True when some request can carry a client certificate: the HTTPS listener asks for one, or a proxy forwards it. */
export function clientCertificatesArrive(web: CertificateSettings['web']): boolean {
  return (web.https !== undefined && web.tlsClientCA !== undefined) || web.clientCertificate !== undefined;
}

function forwardingIssues(web: CertificateSettings['web']): CertificateIssue[] {
  const forwarding = web.clientCertificate;
  if (!forwarding) return [];
  // A half-set xfcc (trustedBy without forwardClientCertDetails) is reported by its own schema.
  const xfcc = forwarding.xfcc.forwardClientCertDetails !== 'SANITIZE' || forwarding.xfcc.trustedBy.length > 0;
  const issues: CertificateIssue[] = [];
  if (!xfcc && forwarding.header === undefined) {
    issues.push({ path: ['web', 'clientCertificate'], message: "names no header: set xfcc (Envoy's x-forwarded-client-cert) or header (nginx's $ssl_client_escaped_cert)" });
  }
  if (xfcc && forwarding.header !== undefined) {
    issues.push({ path: ['web', 'clientCertificate', 'header'], message: 'set xfcc or header, not both (one proxy writes one of them)' });
  }
  if ((web.clientRemoteIP?.trustedProxies ?? []).length === 0) {
    issues.push({ path: ['web', 'clientCertificate'], message: "is believed only from web.clientRemoteIP.trustedProxies, which lists none: add the proxy's addresses" });
  }
  return issues;
}

function mtlsURLIssues(config: CertificateSettings): CertificateIssue[] {
  const { mtlsURL } = config.web;
  if (mtlsURL === undefined || !URL.canParse(mtlsURL) || !URL.canParse(config.issuer)) return [];
  const alias = new URL(mtlsURL);
  const issuer = new URL(config.issuer);
  const path = (url: URL) => url.pathname.replace(/\/+$/, '');
  if (alias.protocol !== 'https:') return [{ path: ['web', 'mtlsURL'], message: 'must be an https URL (it is where clients use mutual TLS)' }];
  if (alias.search || alias.hash) return [{ path: ['web', 'mtlsURL'], message: 'must not have a query or fragment' }];
  if (path(alias) !== path(issuer)) {
    return [{ path: ['web', 'mtlsURL'], message: `must have the issuer's path (${path(issuer) || '/'}): the same routes serve both` }];
  }
  if (alias.origin === issuer.origin) return [{ path: ['web', 'mtlsURL'], message: 'is the issuer URL itself: set it only when clients reach mutual TLS at another host or port' }];
  return [];
}

function clientIssues(config: CertificateSettings): CertificateIssue[] {
  const issues: CertificateIssue[] = [];
  const arrive = clientCertificatesArrive(config.web);
  const noSource = 'no client certificate can arrive: set web.tlsClientCA with web.https, or web.clientCertificate behind a proxy';
  config.staticClients.forEach((client, index) => {
    const method = client.tokenEndpointAuthMethod;
    if (method === 'tls_client_auth' && config.web.tlsClientCA === undefined) {
      issues.push({ path: ['staticClients', index, 'tokenEndpointAuthMethod'], message: 'tls_client_auth needs web.tlsClientCA (the CAs that issue client certificates)' });
    } else if ((method === 'tls_client_auth' || method === 'self_signed_tls_client_auth') && !arrive) {
      issues.push({ path: ['staticClients', index, 'tokenEndpointAuthMethod'], message: `${method}: ${noSource}` });
    }
    if (client.tlsClientCertificateBoundAccessTokens && !arrive) {
      issues.push({ path: ['staticClients', index, 'tlsClientCertificateBoundAccessTokens'], message: noSource });
    }
  });
  return issues;
}

/** Every problem with the client-certificate settings; paths are from the config's root. */
export function clientCertificateIssues(config: CertificateSettings): CertificateIssue[] {
  const issues = [...forwardingIssues(config.web), ...mtlsURLIssues(config), ...clientIssues(config)];
  if (config.web.tlsClientCA !== undefined && config.web.https === undefined && config.web.clientCertificate === undefined) {
    issues.push({ path: ['web', 'tlsClientCA'], message: 'is used by the HTTPS listener (web.https) and for certificates a proxy forwards (web.clientCertificate): set one of them' });
  }
  return issues;
}
