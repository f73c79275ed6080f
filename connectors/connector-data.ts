/**
 * connectorData as JSON: what a connector keeps between loginURL and handleCallback (PKCE verifier,
 * state) and with the identity for refresh (upstream tokens). It stays server-side; a record that is
 * missing or unreadable means the login must start again.
 */
import { ConnectorError } from '../src/connector.js';

export function encodeConnectorData(value: object): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** `what` names the record in the refusal ("login state", "upstream session"). */
export function decodeConnectorData<T>(data: Uint8Array | undefined, what: string): T {
  if (!data || data.length === 0) throw new ConnectorError('invalid_response', `the ${what} is missing; start the login again`);
  try {
    return JSON.parse(new TextDecoder().decode(data)) as T;
  } catch (error) {
    throw new ConnectorError('invalid_response', `the ${what} is unreadable; start the login again`, { cause: error });
  }
}
