// Every config type error names what was expected and what was written instead; a missing key says
// "is required"; an enum lists its values. Text that was written is never echoed (it may be a secret).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

const issuer = 'issuer: http://127.0.0.1:5556/dex\n';
const storage = 'storage: { type: memory }\n';
const web = 'web: { http: 127.0.0.1:5556 }\n';

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the config to be refused');
}

describe('config type errors', () => {
  it('says a list of strings was expected where a string was written', () => {
    expect(problemsOf(`${issuer}${storage}${web}staticClients:\n  - { id: app, secret: s, redirectURIs: "http://x" }\n`)).toEqual([
      'staticClients[0].redirectURIs: expected a list of strings, got a string',
    ]);
  });

  it('says a duration was expected where a number was written', () => {
    expect(problemsOf(`${issuer}${storage}${web}expiry:\n  idTokens: 5\n`)).toEqual([
      'expiry.idTokens: expected a duration such as "24h" or "10m", got 5',
    ]);
  });

  it('says a mapping was expected where a boolean was written', () => {
    expect(problemsOf(`${issuer}${storage}web: true\n`)).toEqual(['web: expected a mapping, got true']);
  });

  it('names booleans, whole numbers and lists of mappings', () => {
    expect(problemsOf(`${issuer}${storage}${web}enablePasswordDB: "yes"\n`)).toEqual(['enablePasswordDB: expected true or false, got a string']);
    expect(problemsOf(`${issuer}storage: { type: postgres, config: { port: 54.32 } }\n${web}`)).toEqual([
      'storage.config.port: expected a whole number, got 54.32',
    ]);
    expect(problemsOf(`${issuer}${storage}${web}connectors: { type: ldap }\n`)).toEqual(['connectors: expected a list of mappings, got a mapping']);
    expect(problemsOf(`${issuer}${storage}${web}oauth2:\n  skipApprovalScreen:\n`)).toEqual(['oauth2.skipApprovalScreen: expected true or false, got an empty value']);
  });

  it('never echoes the text that was written', () => {
    const problems = problemsOf(`${issuer}${storage}${web}staticClients: "hunter2-secret"\n`);
    expect(problems).toEqual(['staticClients: expected a list of mappings, got a string']);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('describes type errors inside a connector\'s own config', () => {
    expect(problemsOf(`${issuer}${storage}${web}connectors:\n  - { type: mockPassword, id: pw, name: P, config: { username: [a], password: p } }\n`)).toEqual([
      'connectors[0].config.username: expected a string, got a list',
    ]);
  });

  it('still says "is required" for a missing key and lists the values of an enum', () => {
    expect(problemsOf(`${storage}${web}`)).toEqual(['issuer: is required']);
    expect(problemsOf(`${issuer}${storage}${web}logger: { level: loud }\n`)).toEqual([
      'logger.level: unknown value (expected one of: trace, debug, info, warn, error, fatal)',
    ]);
    expect(problemsOf(`${issuer}${storage}${web}signer: { type: vault }\n`)).toEqual(['signer.type: must be "local"']);
  });

  it('puts bounds in words', () => {
    expect(problemsOf(`${issuer}${storage}${web}connectors:\n  - { type: mockCallback, id: m, name: "" }\n`)).toEqual(['connectors[0].name: must not be empty']);
    expect(problemsOf(`${issuer}storage: { type: postgres, config: { port: 70000 } }\n${web}`)).toEqual(['storage.config.port: must be at most 65535']);
  });
});
