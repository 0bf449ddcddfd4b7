// dbkit studio: the schema view (dbkit_snapshot() as tables, and a diagram of
// tables and foreign keys). Loaded before app.js, which holds $, esc, api, state.
// Every step is linear in tables + foreign keys, and the diagram draws at most
// MAX_DRAWN boxes: a schema of 500 tables draws the selected table's neighbourhood.
'use strict';
const MAX_DRAWN = 60;

async function showSchema(args) {
  const root = $('#view-schema');
  if (!state.schema) {
    root.innerHTML = '<div class="muted">reading dbkit_snapshot()…</div>';
    const j = await api('/api/schema');
    if (!j.ok) { root.innerHTML = errorHtml(j.error); return; }
    indexSchema(j);
    state.schema = j;
    root.innerHTML = `<h2>Schema <span class="muted">${j.tables.length} tables, ${j.enums.length} enums, from dbkit_snapshot()</span></h2>` +
      '<div class="schema"><div><input type="search" id="schema-filter" placeholder="filter tables (name, or a column name)" style="width:100%;margin-bottom:8px">' +
      '<div class="muted" id="tcount"></div><div class="tlist" id="tlist"></div>' +
      '<h3>Enums</h3><div id="enums"></div></div><div><div class="toolbar tabs"><button data-tab="table" class="on">Table</button><button data-tab="diagram">Diagram</button>' +
      '<label class="muted"><input type="checkbox" id="diagram-near"> only the selected table and its neighbours</label></div><div id="schema-main"></div></div></div>';
    $('#enums').innerHTML = j.enums.map((e) => `<div class="panel"><b class="mono">${esc(e.name)}</b><div class="muted">${e.labels.map(esc).join(', ')}</div></div>`).join('') || '<div class="muted">none</div>';
    $('#schema-filter').addEventListener('input', () => { renderTableList(); if (state.schemaTab === 'diagram') renderDiagram(); });
    $('#tlist').addEventListener('click', (e) => { const d = e.target.closest('[data-q]'); if (d) selectTable(d.dataset.q); });
    $$('.tabs button', root).forEach((b) => b.addEventListener('click', () => { state.schemaTab = b.dataset.tab; renderSchemaMain(); }));
    $('#diagram-near').addEventListener('change', () => renderDiagram());
    state.schemaTab = 'table';
    if (j.tables.length) state.schemaSel = j.tables[0].q;
    renderTableList();
  }
  if (args && args.length >= 2) selectTable(`${args[0]}.${args[1]}`);
  else renderSchemaMain();
}

// Lookups built once: by name, and who references whom (both ways).
function indexSchema(j) {
  j.byQ = new Map();
  j.refs = new Map();  // q -> tables whose foreign keys reference q
  for (const t of j.tables) {
    t.q = `${t.schema}.${t.name}`;
    t.search = t.q.toLowerCase();
    j.byQ.set(t.q, t);
  }
  for (const t of j.tables) {
    t.targets = [...new Set(t.fks.map((f) => `${f.schema}.${f.table}`))].filter((q) => j.byQ.has(q));
    for (const q of t.targets) {
      if (!j.refs.has(q)) j.refs.set(q, []);
      j.refs.get(q).push(t.q);
    }
  }
}

function filteredTables() {
  const f = ($('#schema-filter')?.value || '').trim().toLowerCase();
  return state.schema.tables.filter((t) => !f || t.search.includes(f) || t.columns.some((c) => c.name.toLowerCase() === f));
}

function renderTableList() {
  const ts = filteredTables();
  $('#tcount').textContent = ts.length === state.schema.tables.length ? '' : `${ts.length} of ${state.schema.tables.length} tables`;
  $('#tlist').innerHTML = ts.map((t) => `<div data-q="${esc(t.q)}" class="${t.q === state.schemaSel ? 'selected' : ''}">${esc(t.q)} <span class="muted">${t.columns.length}</span></div>`).join('') || '<div class="muted">no table matches</div>';
  $('#tlist .selected')?.scrollIntoView({ block: 'nearest' });
}

function selectTable(q) {
  state.schemaSel = q;
  $$('#tlist [data-q]').forEach((d) => d.classList.toggle('selected', d.dataset.q === q));
  $('#tlist .selected')?.scrollIntoView({ block: 'nearest' });  // table 250 of 500 too
  renderSchemaMain();
}

function renderSchemaMain() {
  $$('#view-schema .tabs button').forEach((b) => b.classList.toggle('on', b.dataset.tab === state.schemaTab));
  if (state.schemaTab === 'diagram') return renderDiagram();
  const t = state.schema.byQ.get(state.schemaSel);
  const main = $('#schema-main');
  if (!t) { main.innerHTML = `<div class="muted">${state.schema.tables.length ? 'no such table' : 'no tables'}</div>`; return; }
  let h = `<div class="panel" id="schema-table"><h3 class="mono">${esc(t.q)} <span class="muted">${esc(t.kind)}</span></h3>` +
    (t.comment ? `<div class="table-comment">${esc(t.comment)}</div>` : '') +
    `<a href="#data/${encodeURIComponent(t.schema)}/${encodeURIComponent(t.name)}">browse its rows →</a>`;
  const commented = t.columns.some((c) => c.comment);
  h += '<table class="grid columns" style="margin-top:8px"><tr><th>column</th><th>type</th><th>null</th><th>default</th>' +
    (commented ? '<th>comment</th>' : '') + '</tr>' +
    t.columns.map((c) => `<tr><td class="mono col-name">${esc(c.name)}</td><td class="mono">${esc(c.type)}</td><td>${c.not_null ? 'not null' : ''}</td>` +
      `<td class="mono">${esc(c.default ?? (c.identity ? 'identity ' + c.identity : c.generated ? 'generated ' + c.generated : ''))}</td>` +
      (commented ? `<td class="col-comment">${esc(c.comment ?? '')}</td>` : '') + '</tr>').join('') + '</table>';
  if (t.constraints.length) h += '<h3>Constraints</h3><table class="grid">' + t.constraints.map((c) => `<tr><td class="mono">${esc(c.name)}</td><td>${esc(c.type)}</td><td class="mono">${esc(c.definition)}</td></tr>`).join('') + '</table>';
  if (t.indexes.length) h += '<h3>Indexes</h3><table class="grid">' + t.indexes.map((i) => `<tr><td class="mono">${esc(i.name)}${i.invalid ? ' <span class="error">invalid</span>' : ''}</td><td class="mono">${esc(i.definition)}</td></tr>`).join('') + '</table>';
  const refs = state.schema.refs.get(t.q) || [];
  const link = (q) => { const o = state.schema.byQ.get(q); return o ? `<a class="fk-link" href="#schema/${encodeURIComponent(o.schema)}/${encodeURIComponent(o.name)}">${esc(q)}</a>` : esc(q); };
  if (t.fks.length || refs.length) h += '<h3>Foreign keys</h3>' + t.fks.map((f) => `<div>→ ${link(`${f.schema}.${f.table}`)} <span class="muted">${esc(f.name)}</span></div>`).join('') +
    refs.map((q) => `<div>← ${link(q)}</div>`).join('');
  main.innerHTML = h + '</div>';
}

// The tables to draw: every table that passes the filter when they are few; else
// (or with "neighbours") the selected table and the tables up to two foreign keys
// away, nearest first, MAX_DRAWN at most. col: the column a table goes in, from
// left (tables that reference the selected one) to right (tables it references).
function diagramTables() {
  const ts = filteredTables();
  const sel = state.schema.byQ.get(state.schemaSel);
  if (!sel || (!$('#diagram-near').checked && ts.length <= MAX_DRAWN)) return { ts: ts.slice(0, MAX_DRAWN), total: ts.length, grid: true };
  const col = new Map([[sel.q, 0]]);
  let frontier = [sel.q];
  for (let depth = 1; depth <= 2; depth++) {
    const next = [];
    for (const q of frontier) {
      const c = col.get(q);
      for (const [list, dir] of [[state.schema.byQ.get(q).targets, 1], [state.schema.refs.get(q) || [], -1]])
        for (const o of list)
          if (!col.has(o)) { col.set(o, c === 0 ? dir : c + Math.sign(c)); next.push(o); }
    }
    frontier = next;
  }
  const near = [...col.keys()];  // nearest first
  return { ts: near.slice(0, MAX_DRAWN).map((q) => state.schema.byQ.get(q)), col, total: ts.length, near: sel.q, more: near.length - MAX_DRAWN };
}

function renderDiagram() {
  const main = $('#schema-main');
  const d = diagramTables();
  const ts = d.ts, sel = state.schemaSel;
  const W = 210, COLS_SHOWN = 8, LH = 15, GAP_X = 70, GAP_Y = 40;
  const boxH = (t) => 22 + Math.min(t.columns.length, COLS_SHOWN + 1) * LH + 6;
  const pos = new Map();
  let width = 20, height = 20;
  if (d.grid) {  // rows of boxes
    const perRow = Math.max(1, Math.ceil(Math.sqrt(ts.length * 1.6)));
    let y = 10, rowH = 0;
    ts.forEach((t, i) => {
      const c = i % perRow;
      if (c === 0 && i) { y += rowH + GAP_Y; rowH = 0; }
      pos.set(t.q, { x: 10 + c * (W + GAP_X), y, h: boxH(t), t });
      rowH = Math.max(rowH, boxH(t));
    });
    width = 20 + Math.min(perRow, ts.length) * (W + GAP_X);
    height = y + rowH + 20;
  } else {  // columns: what references the selected table, the table, what it references
    const cols = [...new Set(d.col.values())].sort((a, b) => a - b);
    const ys = new Map(cols.map((c) => [c, 10]));
    for (const t of ts) {
      const c = d.col.get(t.q), x = 10 + cols.indexOf(c) * (W + GAP_X), y = ys.get(c);
      pos.set(t.q, { x, y, h: boxH(t), t });
      ys.set(c, y + boxH(t) + GAP_Y / 2);
    }
    width = 20 + cols.length * (W + GAP_X);
    height = Math.max(...ys.values()) + 20;
  }
  let edges = '', boxes = '';
  for (const [q, p] of pos) {
    for (const f of p.t.fks) {
      const to = pos.get(`${f.schema}.${f.table}`); if (!to) continue;
      const y1 = p.y + 11, y2 = to.y + 11;
      let path;
      if (to === p) path = `M${p.x + W} ${y1} c40 0 40 30 0 30`;
      else if (to.x > p.x) path = `M${p.x + W} ${y1} C${p.x + W + 50} ${y1} ${to.x - 50} ${y2} ${to.x} ${y2}`;
      else if (to.x < p.x) path = `M${p.x} ${y1} C${p.x - 50} ${y1} ${to.x + W + 50} ${y2} ${to.x + W} ${y2}`;
      else path = `M${p.x + W} ${y1} C${p.x + W + 40} ${y1} ${to.x + W + 40} ${y2} ${to.x + W} ${y2}`;
      edges += `<path class="fk" d="${path}"><title>${esc(f.name)}</title></path>`;
    }
    const cols = p.t.columns.slice(0, COLS_SHOWN).map((c, i) => `<text x="${p.x + 6}" y="${p.y + 36 + i * LH}">${esc(c.name.slice(0, 16))} <tspan fill="#888">${esc(c.type.slice(0, 14))}</tspan></text>`).join('') +
      (p.t.columns.length > COLS_SHOWN ? `<text x="${p.x + 6}" y="${p.y + 36 + COLS_SHOWN * LH}" fill="#888">… ${p.t.columns.length - COLS_SHOWN} more</text>` : '');
    boxes += `<g class="box ${q === sel ? 'sel' : ''}" data-q="${esc(q)}"><title>${esc(q)}</title><rect x="${p.x}" y="${p.y}" width="${W}" height="${p.h}" rx="4"/>` +
      `<rect class="head" x="${p.x}" y="${p.y}" width="${W}" height="20" rx="4"/><text class="title" x="${p.x + 6}" y="${p.y + 14}">${esc(q.length > 28 ? q.slice(0, 27) + '…' : q)}</text>${cols}</g>`;
  }
  let note = '';
  if (d.grid && d.total > ts.length) note = `${d.total} tables match; the first ${ts.length} are drawn. Pick a table in the list to see its neighbourhood, or narrow the filter.`;
  else if (d.near && d.total > MAX_DRAWN && !$('#diagram-near').checked)
    note = `${d.total} tables${d.total < state.schema.tables.length ? ' match' : ''}, more than the ${MAX_DRAWN} a diagram draws: it shows <b class="mono">${esc(d.near)}</b> and the tables up to two foreign keys away. Pick a table in the list to move there, or narrow the filter.`;
  else if (d.near) note = `<b class="mono">${esc(d.near)}</b> and the tables up to two foreign keys away.`;
  if (d.more > 0) note += ` ${d.more} more are not drawn.`;
  main.innerHTML = `<div class="muted" id="diagram-note">${note}</div>` +
    `<div style="overflow:auto;max-height:calc(100vh - 170px)"><svg class="diagram" id="diagram" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${edges}${boxes}</svg></div>`;
  $('#diagram').addEventListener('click', (e) => {
    const g = e.target.closest('g.box'); if (!g) return;
    state.schemaTab = 'table'; selectTable(g.dataset.q);
  });
}
