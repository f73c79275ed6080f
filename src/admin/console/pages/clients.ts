/**
 * Clients and connectors, read-only: the config file's (static) and those created at runtime through
 * the management API (stored), never a secret.
 */
import { html } from '../../../login/html.js';
import type { ConsoleRequest } from '../request.js';

export async function clientsPage(request: ConsoleRequest): Promise<void> {
  const [clients, connectors] = await Promise.all([request.deps.storage.clients.list(), request.deps.storage.connectors.list()]);
  const origin = (entry: { static?: boolean }) => (entry.static ? 'config file' : 'runtime (API)');
  await request.render(200, {
    title: 'Clients & connectors', section: 'clients',
    body: html`<h2>Clients</h2>
<table class="data" aria-label="Clients"><thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Redirect URIs</th><th scope="col">Grant types</th><th scope="col">From</th></tr></thead>
<tbody>${clients.map((c) => html`<tr><td><code>${c.id}</code></td><td>${c.name}</td><td>${c.public ? 'public' : 'confidential'}</td><td>${c.redirectURIs.map((u, i) => html`${i > 0 ? html`<br>` : ''}<code>${u}</code>`)}</td><td>${(c.grantTypes ?? ['default']).join(', ')}</td><td>${origin(c)}</td></tr>`)}</tbody></table>
<h2>Connectors</h2>
<table class="data" aria-label="Connectors"><thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col">Type</th><th scope="col">From</th></tr></thead>
<tbody>${connectors.map((c) => html`<tr><td><code>${c.id}</code></td><td>${c.name}</td><td>${c.type}</td><td>${origin(c)}</td></tr>`)}</tbody></table>`,
  });
}
