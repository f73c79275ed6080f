/**
 * Says when the policy files may have changed, in the ways files really get replaced: written in place,
 * renamed over (editors, `kubectl cp`), a ConfigMap's `..data` symlink swapped, a directory replaced.
 * Node's recursive fs.watch follows inodes and loses a file once it is renamed over, so this watches
 * directories instead (non-recursive): every directory the listing walks, and the parent of every
 * configured path. It re-arms them after each change and, every `intervalMs`, asks for a rescan as a
 * backstop for events that never came.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { scanPolicyPaths } from './policy/load.js';

export interface PolicyWatchOptions {
  paths: readonly string[];
  /** A relevant event was seen (debounced): reload. */
  onChange: () => unknown;
  /** Reload if the files differ from what is loaded (the periodic backstop, and once after arming). */
  onRescan: () => unknown;
  /** How often to rescan; 0: never. */
  intervalMs: number;
  logger: Logger;
  debounceMs?: number;
}

interface Target {
  /** dev:ino of the directory when it was watched: a different one means it was replaced. */
  identity: string;
  /** The names that matter in it (the parent of a configured path); undefined: every name. */
  names?: Set<string>;
}

interface Watched extends Target {
  watcher: FSWatcher;
}

/**
 * Whether an event for `name` can concern the policies. Names starting with "." are editor swap files
 * and temp files, except Kubernetes' `..data` / `..<timestamp>` (the ConfigMap swap itself).
 */
function relevant(target: Target, name: string | null): boolean {
  if (name === null || name.startsWith('..')) return true;
  return target.names ? target.names.has(name) : !name.startsWith('.');
}

/** Starts watching; resolves once armed, with the function that stops it. */
export async function watchPolicies(options: PolicyWatchOptions): Promise<() => Promise<void>> {
  const { paths, logger } = options;
  const watched = new Map<string, Watched>();
  const warned = new Set<string>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let arming: Promise<void> = Promise.resolve();

  const wantedTargets = async (): Promise<Map<string, Target>> => {
    const wanted = new Map<string, Target>();
    for (const directory of (await scanPolicyPaths(paths)).directories) wanted.set(directory.path, { identity: `${directory.dev}:${directory.ino}` });
    for (const path of paths) {
      const parent = dirname(path);
      const known = wanted.get(parent);
      if (known && !known.names) continue;
      try {
        const info = await stat(parent, { bigint: true });
        wanted.set(parent, { identity: `${info.dev}:${info.ino}`, names: new Set([...(known?.names ?? []), basename(path)]) });
      } catch {
        // no parent to watch now; the next rescan tries again
      }
    }
    return wanted;
  };

  /** Watches what should be watched; `fresh` re-creates every watcher (after an event: one may be dead). */
  const arm = async (fresh: boolean): Promise<void> => {
    const wanted = await wantedTargets();
    if (closed) return;
    for (const [path, current] of watched) {
      if (fresh || wanted.get(path)?.identity !== current.identity) {
        current.watcher.close();
        watched.delete(path);
      }
    }
    for (const [path, target] of wanted) {
      const current = watched.get(path);
      if (current) {
        if (target.names) current.names = target.names;
        else delete current.names;
        continue;
      }
      try {
        const entry = { ...target } as Watched;
        entry.watcher = watch(path, { persistent: false }, (_event, name) => {
          if (relevant(entry, name)) schedule();
        });
        entry.watcher.on('error', (error) => {
          logger.warn({ path, err: { message: error.message } }, 'policy watch failed; re-armed on the next rescan');
          entry.watcher.close();
          if (watched.get(path) === entry) watched.delete(path);
        });
        watched.set(path, entry);
        warned.delete(path);
      } catch (error) {
        if (!warned.has(path)) logger.warn({ path, err: { message: (error as Error).message } }, 'cannot watch policy directory; relying on the rescan');
        warned.add(path);
      }
    }
  };

  // Arming and the callback run in one chain, so that a reload always reads what the new watchers watch.
  const then = (fresh: boolean, next: () => unknown) => {
    arming = arming
      .then(() => arm(fresh))
      .catch((error: unknown) => logger.warn({ err: { message: (error as Error).message } }, 'policy watch: re-arming failed'))
      .then(() => {
        if (!closed) next();
      });
  };
  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => then(true, options.onChange), options.debounceMs ?? 200);
    timer.unref();
  };

  await arm(false);
  // A change between the first load and the arming above sent no event to us: look once, before serving.
  await options.onRescan();
  let rescanning = false; // a slow rescan is not queued up behind itself
  const rescan = () => {
    if (rescanning) return;
    rescanning = true;
    then(false, async () => {
      try {
        await options.onRescan();
      } finally {
        rescanning = false;
      }
    });
  };
  const interval = options.intervalMs > 0 ? setInterval(rescan, options.intervalMs) : undefined;
  interval?.unref();

  return async () => {
    closed = true;
    if (timer) clearTimeout(timer);
    if (interval) clearInterval(interval);
    await arming;
    for (const entry of watched.values()) entry.watcher.close();
    watched.clear();
  };
}
