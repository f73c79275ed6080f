/**
 * Hostnames as Kiali reads them in DestinationRules and AuthorizationPolicy operations: a short name
 * (`reviews`: in the object's namespace), `service.namespace` (when that namespace exists), the
 * `service.namespace.svc` short FQDN, the full `service.namespace.<identity domain>`, or anything else
 * (a ServiceEntry or external host), and the Kubernetes service registry they are looked up in.
 */
import { exportedTo, type Service } from './inventory.js';

export interface Host {
  service: string;
  namespace: string;
  /** The identity domain (`svc.cluster.local`) when the host is a cluster service. */
  cluster: string;
  /** Service, namespace and domain are all known (a short name or a cluster FQDN). */
  complete: boolean;
}

/** A short name takes the object's namespace; `a.b.<identityDomain>` is a cluster FQDN; anything else is kept whole. */
export function parseHost(name: string, namespace: string, identityDomain: string): Host {
  const parts = name.split('.');
  if (parts.length === 1) return { service: name, namespace, cluster: identityDomain, complete: true };
  if (parts.length > 2 && parts.slice(2).join('.') === identityDomain) return { service: parts[0]!, namespace: parts[1]!, cluster: identityDomain, complete: true };
  return { service: name, namespace: '', cluster: '', complete: false };
}

/** Like parseHost, and `service.namespace` (a known namespace) or `service.namespace.svc` name a cluster service. */
export function getHost(name: string, namespace: string, namespaces: ReadonlySet<string> | undefined, identityDomain: string): Host {
  const parts = name.split('.');
  if (parts.length === 2 && (parts[1] === namespace || namespaces?.has(parts[1]!))) return { service: parts[0]!, namespace: parts[1]!, cluster: identityDomain, complete: true };
  if (parts.length === 3 && parts[2] === 'svc') return { service: parts[0]!, namespace: parts[1]!, cluster: identityDomain, complete: true };
  return parseHost(name, namespace, identityDomain);
}

export function hostName(host: Host): string {
  if (!host.complete) return host.service;
  return host.cluster ? `${host.service}.${host.namespace}.${host.cluster}` : `${host.service}.${host.namespace}`;
}

export function isWildcardHost(host: Host): boolean {
  return host.service.startsWith('*');
}

/** The service and namespace a host names, reading `service.namespace` out of an incomplete host too. */
export function serviceAndNamespace(host: Host): [string, string] {
  if (host.complete) return [host.service, host.namespace];
  const parts = host.service.split('.');
  return parts.length > 1 ? [parts[0]!, parts[1]!] : [host.service, host.namespace];
}

/** `*` covers every host; `*.suffix` covers hosts ending in `.suffix` (a whole-label boundary). */
export function withinWildcardHost(host: string, wildcard: string): boolean {
  if (wildcard === '*') return true;
  return wildcard.startsWith('*.') && host.endsWith(wildcard.slice(1));
}

/** Kubernetes Services by their three names (`a.b.<domain>`, `a.b.svc`, `a.b`), with their exportTo. */
export class ServiceRegistry {
  private readonly byHost = new Map<string, Service>();

  constructor(readonly services: readonly Service[], identityDomain: string) {
    for (const service of services) {
      for (const name of [`${service.name}.${service.namespace}.${identityDomain}`, `${service.name}.${service.namespace}.svc`, `${service.name}.${service.namespace}`]) {
        this.byHost.set(name, service);
      }
    }
  }

  /** The host names a service that is exported to `viewer`. */
  visibleFrom(host: string, viewer: string): boolean {
    const service = this.byHost.get(host);
    return service !== undefined && exportedTo(service.exportTo, service.namespace, viewer);
  }

  find(name: string, namespace: string): Service | undefined {
    return this.services.find((s) => s.name === name && s.namespace === namespace);
  }
}
