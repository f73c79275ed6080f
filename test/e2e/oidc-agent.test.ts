/**
 * oidc-agent (Debian's package: oidc-agent, oidc-gen, oidc-token), a device-flow client no one here
 * wrote, against a test issuer: oidc-gen runs the device flow non-interactively (a registered client, the
 * encryption password from the environment, no browser), the test is the person who enters the code
 * and approves, and oidc-token then prints an access token that verifies against idgate's /keys.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actAsPerson } from '../helpers/device.js';
import { ADMIN, DEFAULT_TEST_CONFIG, EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

const run = promisify(execFile);

let idp: TestIssuer;
let home: string;
let agentPid: number | undefined;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // Never skipped: a missing oidc-agent is a broken test machine, and .ci/run installs it.
  for (const tool of ['oidc-agent', 'oidc-gen', 'oidc-token']) {
    if (!existsSync(`/usr/bin/${tool}`)) throw new Error(`/usr/bin/${tool} is missing: install Debian's oidc-agent-cli (apt-get install oidc-agent-cli), as .ci/run does`);
  }
  idp = await startTestIssuer({ configYaml: DEFAULT_TEST_CONFIG.replace('oauth2:\n', 'oauth2:\n  devicePollingInterval: 1s\n') });
  home = await mkdtemp(path.join(tmpdir(), 'idgate-oidc-agent-'));
  // Its own home and config dir, so nothing of the machine's own oidc-agent setup is read or written.
  const base = { ...process.env, HOME: home, OIDC_CONFIG_DIR: path.join(home, '.oidc-agent'), OIDC_ENCRYPTION_PW: 'test encryption password' };
  const { stdout } = await run('oidc-agent', ['--json', '--quiet', `--socket-path=${path.join(home, 'sockXXXXXX', 'agent')}`], { env: base });
  const agent = JSON.parse(stdout) as { socket: string; dpid: string };
  agentPid = Number(agent.dpid);
  env = { ...base, OIDC_SOCK: agent.socket, OIDCD_PID: agent.dpid };
});

afterAll(async () => {
  if (agentPid) process.kill(agentPid, 'SIGTERM');
  await idp?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Resolves with what oidc-gen printed once `pattern` shows up in it. */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (match) resolve(match);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`oidc-gen exited (${code}) before printing ${pattern}:\n${output}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('oidc-agent', () => {
  it('completes a device-flow login with oidc-gen, and oidc-token prints an access token idgate signed', async () => {
    const gen = spawn('oidc-gen', [
      '--flow=device', `--iss=${idp.url}`, `--client-id=${EXAMPLE_APP.id}`, `--client-secret=${EXAMPLE_APP.secret}`,
      '--scope=openid email offline_access', '--no-url-call', '--pw-env', '--confirm-default', '--prompt=none', 'idgate-test',
    ], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const genExit = exited(gen);
      const [, verificationURI, userCode] = await waitForOutput(gen, /visit:\s*(\S+)\s+And enter the code:\s*([A-Z]{4}-[A-Z]{4})/);
      expect(verificationURI).toBe(`${idp.url}/device`);
      // The person opens the verification URI, types the code, logs in and approves.
      expect((await actAsPerson(idp.url, verificationURI!, { userCode })).status).toBe(200);
      expect(await genExit).toBe(0);
    } finally {
      // Left polling after a failure, oidc-gen would outlive the test by the codes' lifetime.
      if (gen.exitCode === null && gen.signalCode === null) gen.kill('SIGTERM');
    }

    const { stdout } = await run('oidc-token', ['idgate-test'], { env });
    const accessToken = stdout.trim();
    const { payload, protectedHeader } = await jwtVerify(accessToken, createRemoteJWKSet(new URL(`${idp.url}/keys`)), { issuer: idp.url });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ client_id: EXAMPLE_APP.id, aud: EXAMPLE_APP.id, email: ADMIN.email, scope: 'openid email offline_access' });
    expect(idp.audit.events.filter((e) => e.event === 'token_issued').map((e) => e.grant)).toContain('urn:ietf:params:oauth:grant-type:device_code');
  }, 60_000);
});
