/**
 * Claim expressions are compiled when the config loads: `idgate check` reports a syntax, type,
 * result-type or cost problem at the expression's config path and YAML line (and the column in the
 * expression); claims idgate sets itself, or the identity's own claims in `extra`, are refused;
 * Kubernetes keys idgate does not take are refused with what to write instead.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { RESERVED_CLAIMS } from '../../src/claims/config.js';

const BASE = `issuer: http://127.0.0.1:5556/dex
storage:
  type: memory
web:
  http: 127.0.0.1:5556
`;

/** A config with one mockPassword connector; `keys` go under it (4 spaces in), from line 11. */
function withConnector(keys: string): string {
  return `${BASE}connectors:
  - type: mockPassword
    id: mock
    name: Mock
    config: {username: u, password: p}
${keys}`;
}

/** A config with one static client; `keys` go under it, from line 10. */
function withClient(keys: string): string {
  return `${BASE}staticClients:
  - id: app
    secret: s
    redirectURIs: [http://127.0.0.1:5555/cb]
${keys}`;
}

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}${p.line ? ` @${p.line}` : ''}`);
  }
  throw new Error('the config was accepted');
}

describe('type errors', () => {
  it('names the path, the line and the column of a type error', () => {
    expect(problemsOf(withConnector(`    claimMappings:
      username:
        expression: size(claims.email) + "@example.com"
`))).toEqual(['connectors[0].claimMappings.username.expression: type error: no such overload: int + string (column 1) @13']);
  });

  it('points into a multi-line expression', () => {
    expect(problemsOf(withClient(`    userValidationRules:
      - expression: |
          user.groups.exists(g,
            g.startsWith(1))
        message: no
`))).toEqual([
      'staticClients[0].userValidationRules[0].expression: type error: found no matching overload for \'string.startsWith(int)\' (expression line 2, column 3) @11',
    ]);
  });

  it('refuses a field user does not have', () => {
    expect(problemsOf(withConnector(`    userValidationRules:
      - expression: user.department == "x"
        message: no
`))).toEqual(['connectors[0].userValidationRules[0].expression: type error: No such key: department (column 6) @12']);
  });

  it('refuses a syntax error', () => {
    expect(problemsOf(withConnector(`    claimValidationRules:
      - expression: claims.hd ==
        message: no
`))[0]).toMatch(/^connectors\[0\]\.claimValidationRules\[0\]\.expression: syntax error: .* @12$/);
  });

  it('refuses an expression whose result does not fit its key', () => {
    expect(problemsOf(withConnector(`    claimMappings:
      groups:
        expression: size(claims.groups) > 1
    claimValidationRules:
      - expression: claims.hd
        message: x
`))).toEqual([
      'connectors[0].claimMappings.groups.expression: must produce a string or a list of strings, but produces bool @13',
    ]);
    expect(problemsOf(withClient(`    userValidationRules:
      - expression: user.email
        message: x
`))).toEqual(['staticClients[0].userValidationRules[0].expression: must produce true or false (bool), but produces string @11']);
  });

  it('is what idgate check prints, exiting 1', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'idgate-claims-'));
    try {
      const file = path.join(dir, 'config.yaml');
      await writeFile(file, withConnector(`    claimMappings:
      username:
        expression: size(claims.email) + "@example.com"
`));
      const out = { stdout: '', stderr: '' };
      const io = { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) };
      expect(await main(['check', '--config', file], io)).toBe(1);
      expect(out.stderr).toContain('connectors[0].claimMappings.username.expression: type error: no such overload: int + string (column 1) (line 13)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the cost limit', () => {
  it('refuses an expression whose estimated cost is over the limit', () => {
    const [problem] = problemsOf(withConnector(`    claimValidationRules:
      - expression: claims.groups.all(a, claims.groups.all(b, a != b || a == b))
        message: x
`));
    expect(problem).toMatch(/^connectors\[0\]\.claimValidationRules\[0\]\.expression: estimated cost \d+ exceeds the limit of 1000000 \(inputs are taken at their caps: see docs\/claims\.md#cost\) @12$/);
  });

  it('accepts one comprehension over the largest input', () => {
    expect(() => parseConfig(withConnector(`    claimValidationRules:
      - expression: claims.groups.exists(g, g.startsWith("eng-"))
        message: x
`), 'test.yaml', {})).not.toThrow();
  });

  it('refuses a pattern that backtracks without bound, and one that is not a literal', () => {
    expect(problemsOf(withConnector(`    claimValidationRules:
      - expression: claims.email.matches("^(a+)+@x$")
        message: x
      - expression: claims.email.matches(claims.pattern)
        message: y
      - expression: claims.email.matches("(a)\\\\1")
        message: z
`))).toEqual([
      'connectors[0].claimValidationRules[0].expression: the pattern "^(a+)+@x$" repeats a group that itself repeats or alternates (e.g. (a+)+ or (a|b)*), which can take exponential time; repeat a character class instead (column 22) @12',
      'connectors[0].claimValidationRules[1].expression: matches needs its pattern written as a string literal, so it can be checked when the config loads (column 1) @14',
      'connectors[0].claimValidationRules[2].expression: the pattern "(a)\\\\1" uses a backreference, which RE2 (CEL\'s regular expressions) does not have (column 22) @16',
    ]);
  });
});

describe('claims no expression may write', () => {
  it('refuses each reserved claim as a client claim', () => {
    for (const name of RESERVED_CLAIMS) {
      expect(problemsOf(withClient(`    claims:
      - key: ${name}
        valueExpression: user.username
`))).toEqual([`staticClients[0].claims[0].key: "${name}" is set by idgate itself and cannot be changed by an expression @11`]);
    }
  });

  it('refuses reserved claims and the identity\'s own claims as a connector\'s extra', () => {
    expect(problemsOf(withConnector(`    claimMappings:
      extra:
        - key: aud
          valueExpression: claims.x
        - key: groups
          valueExpression: claims.x
        - key: federated_claims
          valueExpression: claims.x
`))).toEqual([
      'connectors[0].claimMappings.extra[0].key: "aud" is set by idgate itself and cannot be changed by an expression @13',
      'connectors[0].claimMappings.extra[1].key: "groups" is the identity\'s own claim: map it with claimMappings.groups @15',
      'connectors[0].claimMappings.extra[2].key: "federated_claims" is set by idgate itself (the federated:id scope) @17',
    ]);
  });

  it('refuses a claim listed twice', () => {
    expect(problemsOf(withClient(`    claims:
      - key: roles
        valueExpression: user.groups
      - key: roles
        valueExpression: user.groups
`))).toEqual(['staticClients[0].claims[1].key: duplicate claim "roles" @13']);
  });

  it('refuses a value type no claim can hold', () => {
    expect(problemsOf(withClient(`    claims:
      - key: raw
        valueExpression: bytes(user.username)
`))).toEqual(['staticClients[0].claims[0].valueExpression: must produce a string, number, bool, list or map, but produces bytes @12']);
  });
});

describe('environment expansion', () => {
  it('leaves claim expressions as written, while the connector\'s config is expanded as in Dex', () => {
    const config = parseConfig(withConnector(`    claimValidationRules:
      - expression: claims.tag == "$HOME" && claims.id.matches("^[0-9]+$")
        message: x
`).replace('password: p}', 'password: $SECRET}'), 'test.yaml', { HOME: '/root', SECRET: 'from-env' });
    expect(config.connectors[0]!.config).toEqual({ username: 'u', password: 'from-env' });
    expect(config.connectors[0]!.claimRules!.claimValidationRules[0]!.expression.source).toBe('claims.tag == "$HOME" && claims.id.matches("^[0-9]+$")');
  });
});

describe('Kubernetes keys idgate does not take', () => {
  it('refuses claim/prefix mappings and requiredValue rules, saying what to write', () => {
    expect(problemsOf(withConnector(`    claimMappings:
      username:
        claim: email
        prefix: "oidc:"
        expression: claims.email
    claimValidationRules:
      - claim: hd
        requiredValue: example.com
        expression: "true"
        message: x
`))).toEqual([
      'connectors[0].claimMappings.username.claim: is not supported: write expression: claims.<name> (a prefix goes in it: "oidc:" + claims.<name>) @13',
      'connectors[0].claimMappings.username.prefix: is not supported: put the prefix in the expression: "oidc:" + claims.<name> @14',
      'connectors[0].claimValidationRules[0].claim: is not supported: write the rule as an expression, e.g. expression: claims.hd == "example.com" @17',
      'connectors[0].claimValidationRules[0].requiredValue: is not supported: write the rule as an expression, e.g. expression: claims.hd == "example.com" @18',
    ]);
  });

  it('refuses a message that cannot be an error_description', () => {
    expect(problemsOf(withConnector(`    claimValidationRules:
      - expression: "true"
        message: 'say "no"'
`))).toEqual(['connectors[0].claimValidationRules[0].message: must be printable ASCII without " or \\ (it may be sent as an error_description, RFC 6749 §5.2) @13']);
  });

  it('suggests the key for a typo', () => {
    expect(problemsOf(withConnector(`    claimMapping:
      username:
        expression: claims.email
`))[0]).toMatch(/^connectors\[0\]\.claimMapping: unknown key \(did you mean "claimMappings"\?\) @11$/);
  });
});
