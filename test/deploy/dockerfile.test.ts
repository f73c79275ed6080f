/**
 * The Dockerfile, read rather than built (no registry here): the image runs as a numeric user that
 * Kubernetes' runAsNonRoot can verify, exposes every listener config/docker.yaml opens, ships the
 * policies that config names, and health-checks through `idgate health` with the config it serves,
 * so no port is written twice.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/load.js';
import { splitAddress } from '../../src/config/listen-address.js';
import { finalStage, imageUser, parseDockerfile, readDockerfile, type Instruction } from './dockerfile.js';
import { REPO } from './render.js';

/** An exec-form (JSON array) argument; undefined for the shell form. */
function execForm(argument: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(argument);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function only(instructions: Instruction[], keyword: string): Instruction {
  const found = instructions.filter((i) => i.keyword === keyword);
  expect(found.map((i) => i.argument), keyword).toHaveLength(1);
  return found[0]!;
}

describe('the Dockerfile', () => {
  let image: Instruction[];
  let dockerConfig: Config;
  beforeAll(async () => {
    image = finalStage(await readDockerfile());
    dockerConfig = parseConfig(await readFile(join(REPO, 'config/docker.yaml'), 'utf8'), 'config/docker.yaml');
  });

  it('runs as a numeric, non-root user and group, the ones it creates and gives the data directory', () => {
    const user = imageUser(image);
    expect(user.text).toMatch(/^\d+:\d+$/);
    expect(user.uid).toBeGreaterThan(0);
    expect(user.gid).toBeGreaterThan(0);
    const run = image.filter((i) => i.keyword === 'RUN').map((i) => i.argument).join(' ');
    expect(run).toContain(`groupadd --system --gid ${user.gid} idgate`);
    expect(run).toContain(`useradd --system --uid ${user.uid} --gid ${user.gid}`);
    expect(run).toContain(`chown ${user.uid}:${user.gid} /var/lib/idgate`);
  });

  it('refuses a user given by name, which runAsNonRoot cannot verify', () => {
    expect(imageUser(parseDockerfile('FROM node:24-slim\nUSER idgate\n')).uid).toBeNaN();
    expect(imageUser(parseDockerfile('FROM a AS build\nUSER 10001:10001\nFROM b\nUSER idgate\n')).uid).toBeNaN();
  });

  it('serves config/docker.yaml, copied to the path its CMD names', () => {
    const cmd = execForm(only(image, 'CMD').argument);
    expect(cmd?.slice(0, 2)).toEqual(['serve', '--config']);
    expect(image.map((i) => `${i.keyword} ${i.argument}`)).toContain(`COPY config/docker.yaml ${cmd![2]}`);
    expect(execForm(only(image, 'ENTRYPOINT').argument)).toEqual(['node', '/app/bin/idgate.js']);
  });

  it('exposes every listener config/docker.yaml opens, and only those', () => {
    const listeners = [dockerConfig.web.http, dockerConfig.web.https, dockerConfig.telemetry.http, dockerConfig.filter?.grpc, dockerConfig.filter?.http, dockerConfig.grpc?.addr]
      .filter((address): address is string => Boolean(address))
      .map(splitAddress);
    expect(listeners).toHaveLength(4); // issuer, telemetry/admin, filter gRPC and HTTP
    for (const { host } of listeners) expect(host).toBe('0.0.0.0'); // reachable through a published port
    const exposed = image.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.argument.split(' ')).map((port) => Number(port.replace(/\/tcp$/, '')));
    expect(exposed.sort()).toEqual(listeners.map((l) => l.port).sort());
  });

  it('ships the policies config/docker.yaml names', () => {
    const policies = dockerConfig.filter?.policies ?? [];
    expect(policies).toHaveLength(1);
    const copy = image.find((i) => i.keyword === 'COPY' && i.argument.endsWith(` ${policies[0]}`));
    expect(copy, `nothing is copied to ${policies[0]}`).toBeDefined();
    expect(existsSync(join(REPO, copy!.argument.split(' ')[0]!))).toBe(true);
  });

  it('health-checks with `idgate health` on the config it serves, naming no port', () => {
    const healthcheck = only(image, 'HEALTHCHECK').argument;
    const command = execForm(healthcheck.slice(healthcheck.indexOf('CMD ') + 4));
    const cmd = execForm(only(image, 'CMD').argument)!;
    expect(command).toEqual(['node', '/app/bin/idgate.js', 'health', '--config', cmd[2]]);
    expect(healthcheck).not.toContain(String(splitAddress(dockerConfig.telemetry.http!).port));
    // `idgate health` gives up before Docker does, so its one-line reason reaches `docker inspect`.
    expect(Number(/--timeout=(\d+)s/.exec(healthcheck)?.[1])).toBeGreaterThan(3);
  });
});
