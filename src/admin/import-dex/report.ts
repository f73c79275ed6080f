/**
 * The import's report as text: counts and IDs per kind, what stayed in the config, the conflicts,
 * what was not carried over and why. It names records by ID only: no secret, hash or token is in it.
 */
import { dexReleaseOf } from './schema-version.js';
import type { ImportPlan, Skipped } from './plan.js';

function row(label: string, ids: string[]): string {
  return `  ${label.padEnd(16)} ${String(ids.length).padStart(4)}${ids.length > 0 ? `  ${ids.join(', ')}` : ''}\n`;
}

function section(title: string, entries: Skipped[]): string {
  if (entries.length === 0) return '';
  return `${title}:\n${entries.map((entry) => `  ${entry.kind} ${entry.id}: ${entry.reason}\n`).join('')}`;
}

export function formatPlan(plan: ImportPlan, source: string, mode: 'dry-run' | 'applied'): string {
  const keys = plan.keys.map((key) => `${key.publicKey.kid} (Dex's ${key.origin}, verifies until ${new Date(key.expiresAt).toISOString()})`);
  return [
    `Dex database ${source}: schema version ${plan.schemaVersion} (${dexReleaseOf(plan.schemaVersion)})\n`,
    `${mode === 'dry-run' ? 'would import' : 'imported'}:\n`,
    row('clients', plan.clients.map((client) => client.id)),
    row('passwords', plan.passwords.map((password) => password.id)),
    row('connectors', plan.connectors.map((connector) => connector.id)),
    row('refresh tokens', plan.refreshTokens.map((token) => token.id)),
    row('keys', keys),
    `  ${'offline sessions'.padEnd(16)} ${String(plan.offlineSessions).padStart(4)}  (read for the refresh tokens' connector data; idgate keeps that in each token)\n`,
    section("defined in idgate's config, not imported (the config's entry stays)", plan.static),
    section("conflicts, already in idgate's storage (never overwritten)", plan.conflicts),
    section('not carried over', plan.notCarried),
    plan.notes.length > 0 ? `notes:\n${plan.notes.map((note) => `  ${note}\n`).join('')}` : '',
  ].join('');
}
