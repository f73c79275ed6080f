/**
 * The idgate pods of a rendered topology, each with the config its ConfigMap carries parsed by
 * idgate's own loader (as `idgate check` parses it), and the facts the checks compare: the roles the
 * config gives the process, the listen ports it opens, the environment it needs from the Secret.
 */
import { parseConfig, type Config, type Env } from '../../src/config/load.js';
import { splitAddress } from '../../src/config/listen-address.js';
import { isLoopbackAddress } from '../../src/config/schema.js';
import { named, ofKind, type Container, type Deployment, type K8sObject, type Labels, type PodSpec } from './render.js';

export interface IdgatePod {
  deployment: Deployment;
  labels: Labels;
  spec: PodSpec;
  container: Container;
  /** The ConfigMap behind the `config` volume, and its config.yaml. */
  configMap: K8sObject;
  configText: string;
  config: Config;
  /** What the config makes the process serve. */
  roles: { issuer: boolean; filter: boolean };
  /** Container port name -> the port the config's listener opens there. */
  listeners: Record<string, number>;
  /** The listen addresses' hosts (they must accept connections from the Service). */
  listenHosts: string[];
  /** Environment variables the config reads ($VAR in storage/signer/connectors, *Env keys). */
  envNames: string[];
}

/** Reads the variables the loader asks for, answering each with a placeholder value. */
function recordingEnv(): { env: Env; names: Set<string> } {
  const names = new Set<string>();
  const switches = new Set(['DEX_EXPAND_ENV', 'IDGATE_EXPAND_ENV']);
  const env = new Proxy({} as Env, {
    get(_, key) {
      if (typeof key !== 'string' || switches.has(key)) return undefined;
      names.add(key);
      return `placeholder-${key.toLowerCase()}`;
    },
  });
  return { env, names };
}

export function loadConfigText(text: string, source: string): { config: Config; envNames: string[] } {
  const { env, names } = recordingEnv();
  const config = parseConfig(text, source, env);
  return { config, envNames: [...names].sort() };
}

/** The config file a container is started with: `serve --config <mountPath>/<key>`. */
function configPath(container: Container): string {
  const args = container.args ?? [];
  const index = args.indexOf('--config');
  if (args[0] !== 'serve' || index < 0 || !args[index + 1]) throw new Error(`container ${container.name} is not started as "serve --config FILE": ${args.join(' ')}`);
  return args[index + 1]!;
}

export function idgatePods(objects: K8sObject[]): IdgatePod[] {
  return ofKind<Deployment>(objects, 'Deployment').map((deployment) => {
    const spec = deployment.spec.template.spec;
    const container = spec.containers.find((c) => c.name === 'idgate');
    if (!container) throw new Error(`Deployment ${deployment.metadata.name} has no idgate container`);
    const file = configPath(container);
    const mount = (container.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath}/`));
    if (!mount) throw new Error(`${file} is on no volume of Deployment ${deployment.metadata.name}`);
    const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume?.configMap) throw new Error(`the volume holding ${file} is not a ConfigMap`);
    const configMap = named(objects, 'ConfigMap', volume.configMap.name);
    const key = file.slice(mount.mountPath.length + 1);
    const configText = configMap.data?.[key];
    if (configText === undefined) throw new Error(`ConfigMap ${configMap.metadata.name} has no key ${key}`);
    const { config, envNames } = loadConfigText(configText, `ConfigMap ${configMap.metadata.name}/${key}`);

    const addresses: Record<string, string | undefined> = {
      http: config.web.http,
      https: config.web.https,
      telemetry: config.telemetry.http,
      'grpc-authz': config.filter?.grpc,
      'http-authz': config.filter?.http,
      // The management API (Dex's grpc:) on loopback is reached with kubectl exec, through no port.
      'grpc-api': config.grpc?.addr && !isLoopbackAddress(config.grpc.addr) ? config.grpc.addr : undefined,
    };
    const listeners: Record<string, number> = {};
    const listenHosts: string[] = [];
    for (const [name, address] of Object.entries(addresses)) {
      if (!address) continue;
      const { host, port } = splitAddress(address);
      listeners[name] = port;
      listenHosts.push(host);
    }
    return {
      deployment,
      labels: deployment.spec.template.metadata.labels,
      spec,
      container,
      configMap,
      configText,
      config,
      roles: { issuer: Boolean(config.web.http || config.web.https), filter: Boolean(config.filter) },
      listeners,
      listenHosts,
      envNames,
    };
  });
}

/** The container port a probe or Service names (by name or number); undefined when there is none. */
export function containerPort(container: Container, port: string | number | undefined): number | undefined {
  const ports = container.ports ?? [];
  return typeof port === 'number' ? ports.find((p) => p.containerPort === port)?.containerPort : ports.find((p) => p.name === port)?.containerPort;
}
