/**
 * idgate's proto/dex/api.proto is a trimmed copy of Dex's api/v2/api.proto, and the wire format is the
 * contract: every message it declares must be Dex's field for field (name, number, type, label), and
 * every RPC Dex's (path, request and response types). Checked against the copy of Dex's file in
 * test/fixtures, so a drift in either shows here.
 */
import { fileURLToPath } from 'node:url';
import { loadSync, type MessageTypeDefinition, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { DEX_PROTO } from './harness.js';

const OURS = fileURLToPath(new URL('../../../proto/dex/api.proto', import.meta.url));

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}

const load = (file: string) => loadSync(file, { keepCase: true });

function messages(definition: PackageDefinition): Map<string, FieldDescriptor[]> {
  const out = new Map<string, FieldDescriptor[]>();
  for (const [name, value] of Object.entries(definition)) {
    const message = value as MessageTypeDefinition<unknown, unknown>;
    if (message.format !== 'Protocol Buffer 3 DescriptorProto') continue;
    const fields = (message.type as { field: FieldDescriptor[] }).field;
    out.set(name, fields.map(({ name: field, number, label, type, typeName }) => ({ name: field, number, label, type, typeName })));
  }
  return out;
}

function rpcs(definition: PackageDefinition): Map<string, [string, string, string]> {
  const service = definition['api.Dex'] as ServiceDefinition;
  return new Map(Object.entries(service).map(([name, method]) => [name, [
    method.path,
    (method.requestType.type as { name: string }).name,
    (method.responseType.type as { name: string }).name,
  ]]));
}

describe('proto/dex/api.proto', () => {
  const ours = load(OURS);
  const dex = load(DEX_PROTO);

  it('declares every message exactly as Dex does', () => {
    const dexMessages = messages(dex);
    const ourMessages = messages(ours);
    expect(ourMessages.size).toBeGreaterThan(30);
    for (const [name, fields] of ourMessages) {
      expect(dexMessages.has(name), `${name} is a Dex message`).toBe(true);
      expect(fields, name).toEqual(dexMessages.get(name));
    }
  });

  it("serves released Dex's RPCs, with Dex's paths and types", () => {
    const dexRpcs = rpcs(dex);
    const ourRpcs = rpcs(ours);
    expect([...ourRpcs.keys()].sort()).toEqual([
      'CreateClient', 'CreateConnector', 'CreatePassword', 'DeleteClient', 'DeleteConnector', 'DeletePassword',
      'GetClient', 'GetDiscovery', 'GetVersion', 'ListClients', 'ListConnectors', 'ListPasswords', 'ListRefresh',
      'RevokeRefresh', 'UpdateClient', 'UpdateConnector', 'UpdatePassword', 'VerifyPassword',
    ]);
    for (const [name, signature] of ourRpcs) expect(signature, name).toEqual(dexRpcs.get(name));
  });
});
