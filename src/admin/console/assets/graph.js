/*
 * idgate console: draws the traffic graph with Cytoscape.js (dagre layout, callers left, workloads
 * right, namespaces as boxes). An edge's label is its request count and mTLS share; clicking it (or
 * pressing Enter on a row of the table below the graph) shows its recent decisions in the side panel.
 * Everything taken from the data is set with textContent, never as markup.
 */
/* global document, window, getComputedStyle, cytoscape, cytoscapeDagre */
'use strict';
(function () {
  var container = document.getElementById('graph');
  var panel = document.getElementById('edge-panel');
  if (!container || typeof cytoscape !== 'function') return;
  cytoscape.use(cytoscapeDagre);
  var css = getComputedStyle(document.documentElement);
  var color = function (name) { return css.getPropertyValue(name).trim(); };

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function showEdge(id) {
    panel.replaceChildren(el('p', 'Loading…', 'muted'));
    fetch(container.dataset.edgeApi + '&edge=' + encodeURIComponent(id), { credentials: 'same-origin' })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        panel.replaceChildren();
        if (!data.edge) { panel.append(el('p', data.error_description || 'No data for this edge.', 'error')); return; }
        var e = data.edge;
        panel.append(el('h2', 'Edge'), el('p', e.source + ' → ' + e.target));
        panel.append(el('p', e.total + ' request(s): ' + e.allow + ' allowed, ' + e.deny + ' denied, ' + e.mtlsShare + ' with mTLS', 'edge-summary'));
        var table = el('table'); var head = el('tr');
        ['Time', 'Decision', 'Reason', 'Request'].forEach(function (h) { head.append(el('th', h)); });
        table.append(head);
        data.decisions.forEach(function (d) {
          var row = el('tr');
          row.append(el('td', String(d.line.time).slice(11, 23)), el('td', d.line.decision), el('td', d.line.reason), el('td', d.line.method + ' ' + d.line.path));
          table.append(row);
        });
        panel.append(table);
      })
      .catch(function () { panel.replaceChildren(el('p', 'The decisions could not be loaded.', 'error')); });
  }

  fetch(container.dataset.api, { credentials: 'same-origin' })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      var elements = [];
      data.nodes.forEach(function (n) {
        elements.push({ group: 'nodes', data: { id: n.id, label: n.label, kind: n.kind, title: n.title, parent: n.parent } });
      });
      data.edges.forEach(function (e) {
        elements.push({ group: 'edges', data: {
          id: e.id, source: e.source, target: e.target, total: e.total, allow: e.allow, deny: e.deny, mtls: e.mtls,
          mtlsShare: e.mtlsShare, label: e.total + ' req' + (e.mtls > 0 ? ' · mTLS ' + e.mtlsShare : ''),
          tone: e.deny === 0 ? 'ok' : e.allow === 0 ? 'denied' : 'mixed',
        } });
      });
      var cy = cytoscape({
        container: container,
        elements: elements,
        wheelSensitivity: 0.3,
        style: [
          { selector: 'node', style: { label: 'data(label)', 'font-size': 11, color: color('--text'), 'text-valign': 'bottom', 'text-margin-y': 4, 'background-color': color('--accent'), width: 18, height: 18 } },
          { selector: 'node[kind = "requestPrincipal"]', style: { shape: 'round-rectangle', 'background-color': color('--info') } },
          { selector: 'node[kind = "anonymous"]', style: { shape: 'diamond', 'background-color': color('--muted') } },
          { selector: 'node[kind = "workload"]', style: { shape: 'triangle', 'background-color': color('--ok') } },
          { selector: ':parent', style: { 'background-opacity': 0.06, 'background-color': color('--text'), 'border-color': color('--border'), 'border-width': 1, 'text-valign': 'top', 'font-weight': 600, shape: 'round-rectangle', padding: 14 } },
          { selector: 'edge', style: { width: 2, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', label: 'data(label)', 'font-size': 10, color: color('--text'), 'text-background-color': color('--surface'), 'text-background-opacity': 1, 'text-background-padding': 2, 'line-color': color('--edge'), 'target-arrow-color': color('--edge') } },
          { selector: 'edge[mtls > 0]', style: { 'line-style': 'solid', 'source-arrow-shape': 'square', 'source-arrow-color': color('--ok') } },
          { selector: 'edge[mtls = 0]', style: { 'line-style': 'dashed' } },
          { selector: 'edge[tone = "mixed"]', style: { 'line-color': color('--warning'), 'target-arrow-color': color('--warning') } },
          { selector: 'edge[tone = "denied"]', style: { 'line-color': color('--danger'), 'target-arrow-color': color('--danger') } },
          { selector: ':selected', style: { 'overlay-color': color('--focus'), 'overlay-opacity': 0.2 } },
        ],
        layout: { name: 'dagre', rankDir: 'LR', nodeSep: 30, rankSep: 120 },
      });
      cy.on('tap', 'edge', function (event) { showEdge(event.target.id()); });
      container.dataset.rendered = String(data.edges.length);
      window.idgateGraph = cy;
    })
    .catch(function () { container.dataset.rendered = 'error'; });

  document.querySelectorAll('tr[data-edge]').forEach(function (row) {
    row.tabIndex = 0;
    row.addEventListener('keydown', function (event) { if (event.key === 'Enter') showEdge(row.dataset.edge); });
    row.addEventListener('click', function (event) { if (event.target.tagName !== 'A') showEdge(row.dataset.edge); });
  });
})();
