/**
 * Reads the Dockerfile's instructions (continuation lines joined, comments dropped) for the tests
 * that check the image against the manifests and the docker config. Nothing is built.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO } from './render.js';

export interface Instruction {
  /** Upper-case, e.g. USER. */
  keyword: string;
  /** The rest of the line, continuations joined with a space. */
  argument: string;
  /** Which FROM stage it belongs to (0: the first). */
  stage: number;
}

export function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  let stage = -1;
  return logical.map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stage += 1;
    return { keyword: keyword.toUpperCase(), argument: rest.join(' ').replace(/\s+/g, ' '), stage };
  });
}

export async function readDockerfile(): Promise<Instruction[]> {
  return parseDockerfile(await readFile(join(REPO, 'Dockerfile'), 'utf8'));
}

/** The final stage's instructions: what the image runs with. */
export function finalStage(instructions: Instruction[]): Instruction[] {
  const last = Math.max(...instructions.map((i) => i.stage));
  return instructions.filter((i) => i.stage === last);
}

/** The final stage's USER as uid and gid; NaN where it is not numeric. */
export function imageUser(instructions: Instruction[]): { uid: number; gid: number; text: string } {
  const users = finalStage(instructions).filter((i) => i.keyword === 'USER');
  const text = users[users.length - 1]?.argument ?? '';
  const [uid = '', gid = ''] = text.split(':');
  const numeric = (value: string) => (/^\d+$/.test(value) ? Number(value) : Number.NaN);
  return { uid: numeric(uid), gid: numeric(gid), text };
}
