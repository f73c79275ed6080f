/**
 * The grants the oauth2 section enables, checked against the rest of the config. The password grant
 * (as in Dex) is on only with oauth2.passwordConnector, which must name a connector that checks
 * passwords and serves the grant; listing `password` without it is refused rather than ignored, and so
 * is a passwordConnector that oauth2.grantTypes then leaves unused. Dex's `implicit` is no token
 * endpoint grant: oauth2.responseTypes switches the flows that return tokens from /auth, so a list
 * with `implicit` must agree with it.
 */
import { connectorFactory, connectorTypes } from '../connector.js';
import { formatPath, type ConfigProblem } from './errors.js';
import type { ConnectorConfig } from './load.js';
import type { ParsedConfig } from './schema.js';

type Locate = (path: PropertyKey[]) => number | undefined;

const PASSWORD_DB = 'local';

/** The connector types that check passwords, for messages. */
function passwordConnectorTypes(): string[] {
  return connectorTypes().filter((type) => connectorFactory(type)?.kind === 'password');
}

function passwordConnectorProblems(config: ParsedConfig, connectors: ConnectorConfig[], name: string): Array<[PropertyKey[], string]> {
  const at: PropertyKey[] = ['oauth2', 'passwordConnector'];
  const index = connectors.findIndex((connector) => connector.id === name);
  if (index < 0) {
    if (name !== PASSWORD_DB) return [[at, `no connector with id "${name}"`]];
    return config.enablePasswordDB ? [] : [[at, 'names the password DB ("local"), which is off: set enablePasswordDB: true']];
  }
  const connector = connectors[index]!;
  const kind = connectorFactory(connector.type)?.kind;
  if (kind !== undefined && kind !== 'password') {
    return [[at, `connector "${name}" (type ${connector.type}) does not check passwords: name one of type ${[...passwordConnectorTypes(), `or "${PASSWORD_DB}" (enablePasswordDB)`].join(', ')}`]];
  }
  if (connector.grantTypes && connector.grantTypes.length > 0 && !connector.grantTypes.includes('password')) {
    return [[['connectors', index, 'grantTypes'], 'does not list password, but oauth2.passwordConnector names this connector']];
  }
  return [];
}

/** True when a listed response type returns a token from /auth (the implicit and hybrid flows). */
function returnsTokensFromAuth(responseTypes: readonly string[]): boolean {
  return responseTypes.some((type) => type.split(' ').some((part) => part === 'token' || part === 'id_token'));
}

function implicitProblems(config: ParsedConfig): Array<[PropertyKey[], string]> {
  const { grantTypes, responseTypes } = config.oauth2;
  if (!grantTypes) return [];
  const index = grantTypes.indexOf('implicit');
  const implicitOn = returnsTokensFromAuth(responseTypes);
  if (index >= 0 && !implicitOn) {
    return [[['oauth2', 'grantTypes', index], 'implicit is switched by oauth2.responseTypes: list a type that returns tokens from /auth (e.g. "id_token token", "code id_token"), or remove implicit']];
  }
  if (index < 0 && implicitOn) {
    return [[['oauth2', 'grantTypes'], `does not list implicit, but oauth2.responseTypes (${responseTypes.join(', ')}) returns tokens from /auth: add implicit, or remove those response types`]];
  }
  return [];
}

export function grantProblems(config: ParsedConfig, connectors: ConnectorConfig[], lineOf: Locate): ConfigProblem[] {
  const found: Array<[PropertyKey[], string]> = [];
  const { passwordConnector, grantTypes } = config.oauth2;
  if (passwordConnector !== undefined) {
    found.push(...passwordConnectorProblems(config, connectors, passwordConnector));
    if (grantTypes && !grantTypes.includes('password')) {
      found.push([['oauth2', 'passwordConnector'], 'is set, but oauth2.grantTypes does not list password: add it, or remove passwordConnector']);
    }
  } else {
    const needsConnector = 'the password grant needs oauth2.passwordConnector (the connector that checks the passwords)';
    grantTypes?.forEach((grant, index) => {
      if (grant === 'password') found.push([['oauth2', 'grantTypes', index], needsConnector]);
    });
    config.staticClients.forEach((client, clientIndex) => {
      client.grantTypes?.forEach((grant, index) => {
        if (grant === 'password') found.push([['staticClients', clientIndex, 'grantTypes', index], needsConnector]);
      });
    });
  }
  found.push(...implicitProblems(config));
  return found.map(([path, message]) => ({ path: formatPath(path), message, line: lineOf(path) }));
}
