/**
 * Writes a directory the way kubelet's atomic writer fills a ConfigMap volume, for tests of what reads
 * one: the files go to a new `..<timestamp>` dir, `..data_tmp` is pointed at it and renamed over
 * `..data`, each key gets a top-level symlink into `..data`, the symlinks of keys no longer there and
 * the old timestamped dir are removed.
 */
import { mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let generation = 0;

/** Creates or updates the volume in `dir` so that it holds exactly `files` (key -> content). */
export async function writeConfigMapVolume(dir: string, files: Record<string, string>): Promise<void> {
  generation += 1;
  const stamp = `..2026_12_01_10_00_${String(generation).padStart(2, '0')}.123456789`;
  await mkdir(join(dir, stamp), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, stamp, name), text);
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  const removed = previous ? (await readdir(join(dir, previous))).filter((name) => !(name in files)) : [];
  await symlink(stamp, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) await symlink(join('..data', name), join(dir, name)).catch(() => undefined);
  for (const name of removed) await rm(join(dir, name));
  if (previous) await rm(join(dir, previous), { recursive: true });
}
