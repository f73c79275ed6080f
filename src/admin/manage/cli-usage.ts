/**
 * What `idgate clients|passwords|connectors` accept: the usage texts, the options, which option each
 * action takes, and the option that carries each field the management operations name (for errors).
 */

export type ManagedKind = 'clients' | 'passwords' | 'connectors';

export const MANAGE_USAGE: Record<ManagedKind, string> = {
  clients: `Usage:
  idgate clients list   --config FILE [--json]
  idgate clients create --config FILE [--id ID] [--secret SECRET | --public] [--name NAME]
                        [--redirect-uri URI]... [--trusted-peer ID]... [--logo-url URL] [--allowed-connector ID]...
  idgate clients update --config FILE --id ID [--name NAME] [--redirect-uri URI]... [--trusted-peer ID]...
                        [--logo-url URL] [--allowed-connector ID]...
  idgate clients delete --config FILE --id ID

create generates the ID and, for a confidential client, the secret when they are not given, and prints
the secret: it is stored hashed and shown only this once. update replaces each list it is given.
`,
  passwords: `Usage:
  idgate passwords list   --config FILE [--json]
  idgate passwords create --config FILE --email EMAIL --user-id ID [--username NAME] (--hash BCRYPT | --password-stdin)
  idgate passwords update --config FILE --email EMAIL [--username NAME] [--hash BCRYPT | --password-stdin]
  idgate passwords delete --config FILE --email EMAIL

--hash takes a bcrypt hash of cost 10 to 16 (as Dex's API); --password-stdin reads the password from
standard input and hashes it (cost 12). Entries serve the password DB (enablePasswordDB).
`,
  connectors: `Usage:
  idgate connectors list   --config FILE [--json]
  idgate connectors create --config FILE --id ID --type TYPE --name NAME --connector-config FILE [--grant-type GRANT]...
  idgate connectors update --config FILE --id ID [--type TYPE] [--name NAME] [--connector-config FILE]
                           [--grant-type GRANT]... [--all-grant-types]
  idgate connectors delete --config FILE --id ID

--connector-config is a JSON or YAML file holding what the connector's config: block would hold in the
config file. Serving replicas open, reopen or close the connector within a few seconds.
`,
};

export const COMMON_USAGE = `
Exit codes: 0 done, 1 refused or failed, 2 usage, 3 not found, 4 already exists, 5 read-only (the entry
comes from the config file: change it there).
`;

/** The option that carries each field the management operations name. */
const FLAG_OF: Record<string, string> = {
  id: '--id', secret: '--secret', name: '--name', redirectURIs: '--redirect-uri', trustedPeers: '--trusted-peer',
  logoURL: '--logo-url', allowedConnectors: '--allowed-connector', email: '--email', hash: '--hash', userId: '--user-id',
  type: '--type', config: '--connector-config', grantTypes: '--grant-type',
};

export function flagField(field: string): string {
  return field.replace(/^[A-Za-z]+/, (head) => FLAG_OF[head] ?? head);
}

export const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  id: { type: 'string' },
  secret: { type: 'string' },
  public: { type: 'boolean' },
  name: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'trusted-peer': { type: 'string', multiple: true },
  'logo-url': { type: 'string' },
  'allowed-connector': { type: 'string', multiple: true },
  email: { type: 'string' },
  'user-id': { type: 'string' },
  username: { type: 'string' },
  hash: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  type: { type: 'string' },
  'connector-config': { type: 'string' },
  'grant-type': { type: 'string', multiple: true },
  'all-grant-types': { type: 'boolean' },
} as const;

/** Which options each action of each kind takes; any other is a usage error. */
export const ALLOWED: Record<ManagedKind, Record<string, readonly string[]>> = {
  clients: {
    list: ['json'],
    create: ['id', 'secret', 'public', 'name', 'redirect-uri', 'trusted-peer', 'logo-url', 'allowed-connector'],
    update: ['id', 'name', 'redirect-uri', 'trusted-peer', 'logo-url', 'allowed-connector'],
    delete: ['id'],
  },
  passwords: {
    list: ['json'],
    create: ['email', 'user-id', 'username', 'hash', 'password-stdin'],
    update: ['email', 'username', 'hash', 'password-stdin'],
    delete: ['email'],
  },
  connectors: {
    list: ['json'],
    create: ['id', 'type', 'name', 'connector-config', 'grant-type'],
    update: ['id', 'type', 'name', 'connector-config', 'grant-type', 'all-grant-types'],
    delete: ['id'],
  },
};
