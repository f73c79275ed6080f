/**
 * A connector's claim rules through real logins (the login pages over HTTP, openid-client as the
 * client): each claimMappings field reaches the tokens, a claim or user validation rule refuses with
 * its message on the login error page and in the audit line, the input caps refuse a login over them,
 * a refresh hands the connector its own identity and applies the rules again, and the upstream's raw
 * claims are never put in a token or kept.
 */
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { subjectOf } from '../../src/oidc/claims.js';
import { LoginPageError } from '../helpers/http-login.js';
import { EXAMPLE_APP } from '../helpers/issuer.js';
import { bedConfig, DIRECTORY, person, startClaimsBed, type ClaimsBed } from './bed.js';

const RULES = `    claimMappings:
      username:
        expression: claims.login
      uid:
        expression: '"ext-" + claims.sub'
      preferredUsername:
        expression: claims.login.lowerAscii()
      email:
        expression: claims.mail
      emailVerified:
        expression: claims.mail.endsWith("@example.com")
      groups:
        expression: claims.teams.filter(t, t.startsWith("eng-")).map(t, "team:" + t)
      extra:
        - key: department
          valueExpression: claims.dept
        - key: cost_center
          valueExpression: 'has(claims.cc) ? claims.cc : ""'
    claimValidationRules:
      - expression: claims.org == "acme"
        message: Only Acme accounts may sign in here
    userValidationRules:
      - expression: '!user.username.startsWith("system:")'
        message: System accounts cannot sign in`;

const JANE = { sub: '42', login: 'Jane', mail: 'jane@example.com', teams: ['eng-web', 'sales'], dept: 'R&D', org: 'acme', secret_note: 'not for tokens' };

let bed: ClaimsBed;
beforeAll(async () => {
  bed = await startClaimsBed(bedConfig(RULES));
});
afterAll(() => bed?.close());
beforeEach(() => {
  DIRECTORY.clear();
  DIRECTORY.set('jane', person('jane', { ...JANE }));
  bed.idgate.audit.events.length = 0;
});

async function refused(username: string): Promise<LoginPageError> {
  const error = await bed.login(username).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(LoginPageError);
  return error as LoginPageError;
}

const loginAudit = () => bed.idgate.audit.events.filter((event) => event.event === 'login');

describe('claimMappings', () => {
  it('maps username, uid, preferredUsername, email, emailVerified, groups and extra into the tokens', async () => {
    const tokens = await bed.login('jane');
    expect(tokens.claims()).toMatchObject({
      sub: subjectOf('ext-42', 'directory'),
      name: 'Jane',
      preferred_username: 'jane',
      email: 'jane@example.com',
      email_verified: true,
      groups: ['team:eng-web'],
      department: 'R&D',
    });
    // An extra claim whose value is "" is left out (Kubernetes' rule).
    expect(tokens.claims()).not.toHaveProperty('cost_center');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: subjectOf('ext-42', 'directory'), groups: ['team:eng-web'], department: 'R&D' });
  });

  it('maps emailVerified from an expression (false for another domain)', async () => {
    DIRECTORY.set('max', person('max', { ...JANE, sub: '7', login: 'Max', mail: 'max@elsewhere.example' }));
    expect(((await bed.login('max')).claims())).toMatchObject({ email: 'max@elsewhere.example', email_verified: false });
  });

  it('puts none of the upstream raw claims in the tokens, nor keeps them with the session', async () => {
    const tokens = await bed.login('jane');
    for (const token of [tokens.claims()!, decodeJwt(tokens.access_token)]) {
      expect(token).not.toHaveProperty('secret_note');
      expect(token).not.toHaveProperty('teams');
      expect(token).not.toHaveProperty('org');
    }
    // The token's sid is the browser session, not the family id: look at every stored family.
    const families = await bed.idgate.storage.refreshTokens.list();
    expect(families.length).toBeGreaterThan(0);
    for (const family of families) {
      expect(family.identity).not.toHaveProperty('claims');
      expect(JSON.stringify(family.identity)).not.toContain('not for tokens');
    }
  });

  it('refuses the login with the mapping named when an expression cannot be evaluated', async () => {
    const { login: _missing, ...withoutLogin } = JANE;
    DIRECTORY.set('nologin', person('nologin', withoutLogin));
    const error = await refused('nologin');
    expect(error.status).toBe(400);
    expect(error.message).toContain('claimMappings.username: No such key: login');
  });
});

describe('claimValidationRules', () => {
  it('refuses a login whose claims fail a rule, with the rule\'s message on the login error page', async () => {
    DIRECTORY.set('bob', person('bob', { ...JANE, sub: '9', login: 'Bob', org: 'globex' }));
    const error = await refused('bob');
    expect(error.status).toBe(403);
    expect(error.html).toContain('Only Acme accounts may sign in here');
    expect(loginAudit().at(-1)).toMatchObject({
      outcome: 'refused', reason: 'account_not_allowed', rule: 'claimValidationRules[0]', message: 'Only Acme accounts may sign in here',
    });
  });

  it('refuses when a rule cannot be evaluated (the claim it reads is missing), auditing why', async () => {
    const { org: _missing, ...withoutOrg } = JANE;
    DIRECTORY.set('noorg', person('noorg', withoutOrg));
    const error = await refused('noorg');
    expect(error.html).toContain('Only Acme accounts may sign in here');
    expect(loginAudit().at(-1)).toMatchObject({ rule: 'claimValidationRules[0]', detail: 'No such key: org' });
  });

  it('refuses the password grant with the rule\'s message (invalid_grant)', async () => {
    DIRECTORY.set('bob', person('bob', { ...JANE, sub: '9', login: 'Bob', org: 'globex' }));
    const response = await fetch(`${bed.idgate.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${EXAMPLE_APP.id}:${EXAMPLE_APP.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'password', username: 'bob', password: 'secret', scope: 'openid' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_grant', error_description: 'the sign-in was refused: Only Acme accounts may sign in here' });
  });
});

describe('userValidationRules', () => {
  it('refuses a mapped user that fails a rule, with its message on the login error page', async () => {
    DIRECTORY.set('bot', person('bot', { ...JANE, sub: '1', login: 'system:bot' }));
    const error = await refused('bot');
    expect(error.status).toBe(403);
    expect(error.html).toContain('System accounts cannot sign in');
    expect(loginAudit().at(-1)).toMatchObject({ reason: 'account_not_allowed', rule: 'userValidationRules[0]' });
  });
});

describe('input caps', () => {
  it('refuses a login whose claim holds more values than the cap, naming the claim', async () => {
    DIRECTORY.set('many', person('many', { ...JANE, teams: Array.from({ length: 1001 }, (_, index) => `eng-${index}`) }));
    const error = await refused('many');
    expect(error.status).toBe(403);
    expect(error.html).toContain('&quot;teams&quot; has more than 1000 values');
    expect(loginAudit().at(-1)).toMatchObject({ rule: 'input limits' });
  });

  it('accepts exactly the cap', async () => {
    DIRECTORY.set('cap', person('cap', { ...JANE, teams: Array.from({ length: 1000 }, (_, index) => `eng-${index}`) }));
    expect((await bed.login('cap')).claims()!.groups).toHaveLength(1000);
  });

  it('does not count claims no expression reads', async () => {
    DIRECTORY.set('noisy', person('noisy', { ...JANE, unrelated: Array.from({ length: 5000 }, (_, index) => `x${index}`) }));
    expect((await bed.login('noisy')).claims()).toMatchObject({ name: 'Jane' });
  });
});

describe('refresh', () => {
  it('gives the connector its own identity back and maps what it returns again', async () => {
    const tokens = await bed.login('jane');
    DIRECTORY.set('jane', person('jane', { ...JANE, teams: ['eng-web', 'eng-api'], dept: 'Platform' }));
    const refreshed = await client.refreshTokenGrant(bed.rp, tokens.refresh_token!);
    expect(refreshed.claims()).toMatchObject({ sub: subjectOf('ext-42', 'directory'), groups: ['team:eng-web', 'team:eng-api'], department: 'Platform' });
  });

  it('refuses the refresh, with the rule\'s message, once the claims fail a rule', async () => {
    const tokens = await bed.login('jane');
    DIRECTORY.set('jane', person('jane', { ...JANE, org: 'globex' }));
    const error = await client.refreshTokenGrant(bed.rp, tokens.refresh_token!).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    expect(error).toMatchObject({ error: 'invalid_grant', error_description: 'the sign-in was refused: Only Acme accounts may sign in here' });
  });
});
