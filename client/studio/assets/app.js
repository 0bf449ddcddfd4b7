// dbkit studio: the page. No framework: each view fetches JSON from /api/* (with
// the token in a header) and builds its HTML with every value escaped.
'use strict';
const TOKEN = new URLSearchParams(location.search).get('token') || '';
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const state = { info: null, loaded: {} };

async function api(path, body) {
  const opts = { headers: { 'X-Dbkit-Token': TOKEN } };
  if (body !== undefined) {
    opts.method = 'POST';
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let j;
  try { j = await res.json(); } catch (e) { j = { ok: false, error: { message: `HTTP ${res.status}` } }; }
  j.status = res.status;
  return j;
}

function errorHtml(e, sql) {
  if (!e) return '';
  let h = `<div class="error-box"><b>${esc(e.message)}</b>`;
  if (e.sqlstate) h += ` <span class="muted">SQLSTATE ${esc(e.sqlstate)}</span>`;
  if (e.detail) h += `<div>detail: ${esc(e.detail)}</div>`;
  if (e.hint) h += `<div>hint: ${esc(e.hint)}</div>`;
  if (sql && e.position) h += `<pre class="caret">${esc(caret(sql, e.position))}</pre><div class="muted">at character ${e.position}</div>`;
  if (e.context) h += `<div class="muted">${esc(e.context)}</div>`;
  return h + '</div>';
}

// The line holding a 1-based character position, with a caret under it.
function caret(sql, pos) {
  const chars = Array.from(sql);
  const before = chars.slice(0, pos - 1).join('');
  const start = before.lastIndexOf('\n') + 1;
  let end = sql.indexOf('\n', before.length);
  if (end < 0) end = sql.length;
  const line = sql.slice(start, end);
  return line + '\n' + ' '.repeat(Array.from(before.slice(start)).length) + '^';
}

function ms(v) {
  if (v === null || v === undefined) return '';
  return v < 1000 ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : `${(v / 1000).toFixed(1)} s`;
}

// ------------------------------------------------------------------ routing
const views = { migrations: showMigrations, drift: showDrift, schema: showSchema, data: showData, query: showQuery };
function route() {
  const [name, ...rest] = (location.hash.slice(1) || 'migrations').split('/');
  const view = views[name] ? name : 'migrations';
  $$('.view').forEach((v) => v.classList.toggle('active', v.id === `view-${view}`));
  $$('#nav a').forEach((a) => a.classList.toggle('active', a.dataset.view === view));
  views[view](rest.map(decodeURIComponent));
}
window.addEventListener('hashchange', route);

async function init() {
  // The migrations view is the usual first one: its (big) answer is fetched while /api/info is.
  if (!location.hash || location.hash === '#migrations') state.prefetch = { t0: performance.now(), migrations: api('/api/migrations') };
  const info = await api('/api/info');
  state.info = info;
  if (!info.ok) { $('#main').innerHTML = errorHtml(info.error); return; }
  $('#info').innerHTML = `${esc(info.database)} · dbkit ${esc(info.version)}` +
    `<span class="mode ${info.allow_edit ? 'edit' : ''}">${info.allow_edit ? 'edits allowed' : 'read-only'}</span>`;
  route();
}

// ------------------------------------------------------------------ migrations
const STATE_DOT = { applied: '', pending: 'pending', out_of_order: 'bad', modified: 'bad', missing: 'bad', stopped: 'bad', adoptable: 'warn', renamed: 'warn' };

async function showMigrations() {
  const root = $('#view-migrations');
  if (state.loaded.migrations) return;
  root.innerHTML = '<div class="muted">loading the history…</div>';
  const pre = state.prefetch;
  state.prefetch = null;
  const t0 = pre ? pre.t0 : performance.now();
  const j = await (pre ? pre.migrations : api('/api/migrations'));
  if (!j.ok) { root.innerHTML = errorHtml(j.error); return; }
  state.loaded.migrations = true;
  const stopped = new Map(j.progress.map((p) => [p.tag, p]));
  const byTag = new Map();
  // Rows come as arrays in the order of j.columns.
  const items = j.migrations.map((r) => {
    const m = {};
    j.columns.forEach((c, i) => { m[c] = r[i]; });
    if (stopped.has(m.tag)) { m.state = 'stopped'; m.progress = stopped.get(m.tag); }
    byTag.set(m.tag, m);
    return m;
  });
  for (const p of j.progress) if (!byTag.has(p.tag)) { const m = { tag: p.tag, state: 'stopped', progress: p }; byTag.set(p.tag, m); items.push(m); }
  const counts = {};
  for (const m of items) { counts[m.state] = (counts[m.state] || 0) + 1; if (m.how && m.how !== 'applied') counts[m.how] = (counts[m.how] || 0) + 1; }
  let html = `<h2>Migrations <span class="muted">${items.length} ${j.dir ? 'in ' + esc(j.dir) : 'recorded (no folder: --dir shows pending ones)'}</span></h2>`;
  if (j.folder_error) html += errorHtml(j.folder_error);
  for (const p of j.progress)
    html += `<div class="error-box">Non-transactional migration <b>${esc(p.tag)}</b> ${esc(p.status)} at statement ${esc(p.next_statement)} of ${esc(p.statements)}` +
      `${p.error ? ': ' + esc(p.error) : ''}. Run <code>dbkit migrate --resume</code>, or <code>dbkit mark-applied</code>.</div>`;
  html += '<div class="toolbar"><input type="search" id="mig-filter" placeholder="filter by tag, user…" size="30"><div class="chips" id="mig-chips">' +
    Object.keys(counts).sort().map((s) => `<span class="badge chip s-${esc(s)} h-${esc(s)}" data-state="${esc(s)}">${esc(s)} ${counts[s]}</span>`).join('') + '</div></div>';
  html += '<div class="split"><div><div class="mig-row mig-head"><span></span><span>#</span><span>migration</span><span>state</span><span>how</span><span>applied at</span><span>by</span><span>duration</span><span>stmts</span></div>' +
    '<div class="timeline" id="mig-list"></div><div id="mig-more" class="muted"></div></div><div class="sticky" id="mig-detail"><div class="panel muted">Click a migration to see its SQL, who applied it and its events.</div></div></div>';
  root.innerHTML = html;
  let filter = '', chip = '';
  const list = $('#mig-list');
  let shown = [], next = 0, observer = null;
  const row = (m) => `<div class="mig-row" data-tag="${esc(m.tag)}"><span class="dot ${STATE_DOT[m.state] ?? ''} ${m.how && m.how !== 'applied' ? 'info' : ''}"></span>` +
    `<span class="muted">${esc(m.idx ?? '')}</span><span class="mono">${esc(m.tag)}</span>` +
    `<span><span class="badge mig-state s-${esc(m.state)}">${esc(m.state.replace(/_/g, ' '))}</span></span>` +
    `<span>${m.how && m.how !== 'applied' ? `<span class="badge h-${esc(m.how)}">${esc(m.how)}</span>` : ''}</span>` +
    `<span class="muted">${esc((m.applied_at || '').slice(0, 16))}</span><span>${esc(m.applied_by ?? '')}</span>` +
    `<span>${ms(m.duration_ms)}</span><span>${esc(m.statements ?? '')}</span></div>`;
  // Rows are added as the list scrolls (a first screenful, then 300 at a time): 10,000 rows stay fast.
  const more = () => {
    const chunk = shown.slice(next, next + (next ? 300 : 60));
    list.insertAdjacentHTML('beforeend', chunk.map(row).join(''));
    next += chunk.length;
    $('#mig-more').textContent = next < shown.length ? `${shown.length - next} more below…` : '';
  };
  const render = () => {
    const f = filter.toLowerCase();
    shown = items.filter((m) => (!chip || m.state === chip || m.how === chip) &&
      (!f || m.tag.toLowerCase().includes(f) || (m.applied_by || '').toLowerCase().includes(f)));
    list.innerHTML = ''; next = 0; more();
  };
  observer = new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting) && next < shown.length) more(); });
  observer.observe($('#mig-more'));
  $('#mig-filter').addEventListener('input', (e) => { filter = e.target.value; render(); });
  $('#mig-chips').addEventListener('click', (e) => {
    const s = e.target.dataset.state; if (!s) return;
    chip = chip === s ? '' : s;
    $$('#mig-chips .chip').forEach((c) => c.classList.toggle('on', c.dataset.state === chip));
    render();
  });
  list.addEventListener('click', (e) => {
    const r = e.target.closest('.mig-row'); if (!r) return;
    $$('.mig-row.selected', list).forEach((x) => x.classList.remove('selected'));
    r.classList.add('selected');
    migrationDetail(byTag.get(r.dataset.tag));
  });
  render();
  root.dataset.renderMs = String(Math.round(performance.now() - t0));
  root.dataset.ready = '1';
}

async function migrationDetail(m) {
  const box = $('#mig-detail');
  box.innerHTML = `<div class="panel"><h3 class="mono">${esc(m.tag)}</h3><div class="muted">loading…</div></div>`;
  const j = await api(`/api/migration?tag=${encodeURIComponent(m.tag)}`);
  let h = `<div class="panel" id="mig-detail-panel"><h3 class="mono">${esc(m.tag)}</h3>`;
  h += `<div><span class="badge s-${esc(m.state)}">${esc(m.state)}</span> ${m.how && m.how !== 'applied' ? `<span class="badge h-${esc(m.how)}">${esc(m.how)}</span>` : ''}</div>`;
  h += '<table class="grid" style="margin-top:8px">';
  const kv = (k, v) => (v !== undefined && v !== null && v !== '' ? `<tr><th>${k}</th><td>${esc(v)}</td></tr>` : '');
  h += kv('applied at', m.applied_at) + kv('applied by', m.applied_by) + kv('duration', ms(m.duration_ms)) + kv('statements', m.statements) + kv('file', m.file) + kv('note', m.note);
  h += '</table>';
  if (!j.ok) h += errorHtml(j.error);
  if (j.progress) h += `<h3>Stopped half-way</h3><div class="error-box">${esc(j.progress.status)} at statement ${esc(j.progress.next_statement)} of ${esc(j.progress.statements)} (started by ${esc(j.progress.started_by)} at ${esc(j.progress.started_at)})${j.progress.error ? `<pre>${esc(j.progress.error)}</pre>` : ''}</div>`;
  if (j.events && j.events.length) {
    h += '<h3>Events</h3><table class="grid"><tr><th>at</th><th>action</th><th>who</th><th>reason</th></tr>' +
      j.events.map((e) => `<tr><td>${esc(e.at.slice(0, 19))}</td><td>${esc(e.action)}</td><td>${esc(e.actor)}${e.client ? ` <span class="muted">(${esc(e.client)})</span>` : ''}</td><td>${esc(e.reason ?? '')}</td></tr>`).join('') + '</table>';
  }
  h += '<h3>SQL</h3>' + (j.sql !== undefined ? `<pre class="sql">${esc(j.sql)}</pre>` : `<div class="muted">${esc(j.sql_missing || '')}</div>`);
  box.innerHTML = h + '</div>';
}

// ------------------------------------------------------------------ drift
async function showDrift() {
  const root = $('#view-drift');
  root.innerHTML = '<div class="muted">comparing the live schema…</div>';
  const j = await api('/api/drift');
  if (!j.ok) { root.innerHTML = errorHtml(j.error); return; }
  const item = (d, audit) => {
    let h = `<div class="panel drift-item ${esc(d.change)}"><span class="badge">${esc(d.change)}</span> <span class="muted">${esc(d.kind)}</span> <b class="mono">${esc(d.object)}</b><div>${esc(d.detail)}</div>`;
    if (audit) {
      if (Array.isArray(d.audit) && d.audit.length) {
        h += '<table class="grid audit"><tr><th>when</th><th>user</th><th>application</th><th>address</th><th>statement</th></tr>' +
          d.audit.map((a) => `<tr class="audit-entry"><td>${esc((a.at || '').slice(0, 19))}</td><td class="audit-user">${esc(a.session_user)}${a.current_user && a.current_user !== a.session_user ? ` as ${esc(a.current_user)}` : ''}</td>` +
            `<td>${esc(a.application_name || '—')}</td><td>${esc(a.client_addr || 'local')}</td><td><code>${esc(a.statement)}</code></td></tr>`).join('') + '</table>';
      } else h += '<div class="muted">no DDL audit entry explains it (made before the audit, or by a restore)</div>';
    }
    return h + '</div>';
  };
  let h = '<h2>Drift</h2>';
  if (j.last_accept) h += `<div class="muted">Last accepted ${esc(j.last_accept.at.slice(0, 19))} by ${esc(j.last_accept.actor)}: ${esc(j.last_accept.reason ?? '')}</div>`;
  h += `<h3>Live schema against what the migrations left: ${j.migrations.length ? `<span class="error">${j.migrations.length} difference${j.migrations.length === 1 ? '' : 's'}</span>` : '<span style="color:var(--ok)">no drift</span>'}</h3>`;
  h += j.migrations.map((d) => item(d, true)).join('');
  if (j.migrations.length) h += '<button class="danger" id="accept-drift">Accept the live schema…</button>';
  h += '<h3>Live schema against the code (newest drizzle snapshot)</h3>';
  if (j.code) h += j.code.length ? `<div class="muted">${esc(j.code_snapshot)}</div>` + j.code.map((d) => item(d, false)).join('') : '<div style="color:var(--ok)">the live schema matches the code</div>';
  else if (j.code_error) h += `<div class="muted">${esc(j.code_error.message)}</div>`;
  root.innerHTML = h;
  const btn = $('#accept-drift');
  if (btn) btn.addEventListener('click', () => acceptDrift(j.migrations.length));
}

function acceptDrift(n) {
  const dlg = $('#dialog');
  $('#dialog-form').innerHTML = `<h3>Accept ${n} difference${n === 1 ? '' : 's'}?</h3><p>The live schema becomes the reference for drift. The reason is recorded in dbkit.events with your database user.</p>` +
    '<textarea id="accept-reason" placeholder="why the live schema is right" required></textarea><div id="accept-error"></div>' +
    '<div class="toolbar" style="margin-top:10px"><button value="cancel">Cancel</button><button class="danger" id="accept-confirm" value="ok">Accept</button></div>';
  $('#accept-confirm').addEventListener('click', async (e) => {
    e.preventDefault();
    const reason = $('#accept-reason').value.trim();
    if (!reason) { $('#accept-error').innerHTML = errorHtml({ message: 'a reason is required' }); return; }
    const j = await api('/api/drift/accept', { reason });
    if (!j.ok) { $('#accept-error').innerHTML = errorHtml(j.error); return; }
    dlg.close();
    showDrift();
  });
  dlg.showModal();
}

// The schema view is in schema.js.

// ------------------------------------------------------------------ data
const OPS = ['=', '<>', '<', '<=', '>', '>=', 'contains', 'is null', 'is not null'];
async function showData(args) {
  const root = $('#view-data');
  if (!state.tables) {
    root.innerHTML = '<div class="muted">listing tables…</div>';
    const j = await api('/api/tables');
    if (!j.ok) { root.innerHTML = errorHtml(j.error); return; }
    state.tables = j.tables;
    root.innerHTML = '<h2>Data</h2><div class="toolbar"><select id="data-table"></select><span id="data-meta" class="muted"></span></div>' +
      '<div class="toolbar" id="data-filters"></div><div class="toolbar"><select id="f-col"></select><select id="f-op">' + OPS.map((o) => `<option>${esc(o)}</option>`).join('') +
      '</select><input type="text" id="f-val" placeholder="value"><button id="f-add">Add filter</button></div>' +
      '<div id="data-error"></div><div class="data-wrap" id="data-grid"></div><div class="pager"><button id="p-prev">← Previous</button><button id="p-next">Next →</button><span id="p-info" class="muted"></span></div>' +
      '<div id="data-edit"></div>';
    $('#data-table').innerHTML = j.tables.map((t, i) => `<option value="${i}">${esc(t.schema + '.' + t.name)}${t.has_pk ? '' : ' (no primary key)'}${t.estimate > 0 ? ` ~${t.estimate} rows` : ''}</option>`).join('');
    $('#data-table').addEventListener('change', (e) => { const t = state.tables[e.target.value]; location.hash = `#data/${encodeURIComponent(t.schema)}/${encodeURIComponent(t.name)}`; });
    $('#f-add').addEventListener('click', () => {
      state.data.filters.push({ col: $('#f-col').value, op: $('#f-op').value, value: $('#f-val').value });
      loadRows(true);
    });
    $('#data-filters').addEventListener('click', (e) => { const i = e.target.dataset.rm; if (i !== undefined) { state.data.filters.splice(Number(i), 1); loadRows(true); } });
    $('#p-next').addEventListener('click', () => { if (state.data.next) { state.data.stack.push(state.data.after); state.data.after = state.data.next; loadRows(false); } });
    $('#p-prev').addEventListener('click', () => { if (state.data.stack.length) { state.data.after = state.data.stack.pop(); loadRows(false); } });
  }
  if (!state.tables.length) { $('#data-grid').innerHTML = '<div class="muted">no tables</div>'; return; }
  let idx = 0;
  if (args && args.length >= 2) idx = Math.max(0, state.tables.findIndex((t) => t.schema === args[0] && t.name === args[1]));
  else if (state.data) return;
  const t = state.tables[idx];
  $('#data-table').value = String(idx);
  state.data = { schema: t.schema, table: t.name, filters: [], sort: '', dir: 'asc', after: null, stack: [], next: null, page: 0 };
  loadRows(true);
}

async function loadRows(reset) {
  const d = state.data;
  if (reset) { d.after = null; d.stack = []; }
  const q = new URLSearchParams({ schema: d.schema, table: d.table, limit: '50', sort: d.sort, dir: d.dir, filters: JSON.stringify(d.filters) });
  if (d.after) q.set('after', JSON.stringify(d.after));
  const j = await api('/api/rows?' + q);
  $('#data-filters').innerHTML = d.filters.map((f, i) => `<span class="badge">${esc(f.col)} ${esc(f.op)} ${f.op.startsWith('is') ? '' : esc(f.value)} <a href="javascript:void 0" data-rm="${i}">×</a></span>`).join('');
  if (!j.ok) { $('#data-error').innerHTML = errorHtml(j.error); $('#data-grid').innerHTML = ''; return; }
  $('#data-error').innerHTML = '';
  d.columns = j.columns; d.next = j.next; d.rows = j.rows; d.editable = j.editable;
  if (reset) d.count = j.count;
  $('#f-col').innerHTML = j.columns.map((c) => `<option>${esc(c.name)}</option>`).join('');
  const pk = j.columns.filter((c) => c.pk).map((c) => c.name);
  $('#data-meta').textContent = `paging: ${j.paging}${pk.length ? ' (' + pk.join(', ') + ')' : ''} · ` +
    (d.count !== null && d.count !== undefined ? `${d.count} rows` : `≈ ${Math.round(j.estimate)} rows (estimate from pg_class.reltuples)`) +
    (j.editable ? ' · double-click a cell to edit' : '');
  const arrow = (c) => (d.sort === c ? (d.dir === 'asc' ? ' ▲' : ' ▼') : '');
  let h = '<table class="grid" id="rows"><thead><tr>' + j.columns.map((c) => `<th data-col="${esc(c.name)}" style="cursor:pointer" title="${esc(c.type)}">${c.pk ? '<span class="badge" title="primary key">pk</span> ' : ''}${esc(c.name)}${arrow(c.name)}</th>`).join('') + '</tr></thead><tbody>';
  h += j.rows.map((r, ri) => '<tr>' + r.map((v, ci) => `<td data-r="${ri}" data-c="${ci}" class="${v === null ? 'null' : ''} editable">${v === null ? 'null' : esc(v.length > 300 ? v.slice(0, 300) + '…' : v)}</td>`).join('') + '</tr>').join('');
  $('#data-grid').innerHTML = h + '</tbody></table>' + (j.rows.length ? '' : '<div class="muted">no rows</div>');
  const first = d.stack.length * 50 + 1;
  $('#p-info').textContent = j.rows.length ? `rows ${first}–${first + j.rows.length - 1}${j.truncated ? ' (page cut at the byte limit)' : ''}` : '';
  $('#p-prev').disabled = !d.stack.length;
  $('#p-next').disabled = !j.next;
  $$('#rows th').forEach((th) => th.addEventListener('click', () => {
    const c = th.dataset.col;
    if (d.sort !== c) { d.sort = c; d.dir = 'asc'; } else if (d.dir === 'asc') d.dir = 'desc'; else d.sort = '';
    loadRows(true);
  }));
  $('#rows tbody').addEventListener('dblclick', (e) => { const td = e.target.closest('td'); if (td) editCell(Number(td.dataset.r), Number(td.dataset.c)); });
}

// The server decides: it refuses without --allow-edit and on tables without a primary key.
function editCell(ri, ci) {
  const d = state.data, col = d.columns[ci], row = d.rows[ri];
  const box = $('#data-edit');
  box.innerHTML = `<div class="panel"><h3>Edit <span class="mono">${esc(col.name)}</span> <span class="muted">${esc(col.type)}</span></h3>` +
    `<textarea id="edit-value" class="cell-edit">${esc(row[ci] ?? '')}</textarea><label><input type="checkbox" id="edit-null" ${row[ci] === null ? 'checked' : ''}> null</label>` +
    '<div class="toolbar" style="margin-top:6px"><button class="primary" id="edit-save">Save</button><button id="edit-cancel">Cancel</button></div><div id="edit-result"></div></div>';
  $('#edit-cancel').addEventListener('click', () => { box.innerHTML = ''; });
  $('#edit-save').addEventListener('click', async () => {
    const key = {};
    d.columns.forEach((c, i) => { if (c.pk) key[c.name] = row[i]; });
    const value = $('#edit-null').checked ? null : $('#edit-value').value;
    const j = await api('/api/rows/update', { schema: d.schema, table: d.table, key, set: { [col.name]: value } });
    if (!j.ok) { $('#edit-result').innerHTML = errorHtml(j.error) + (j.statement ? `<pre>${esc(j.statement)}</pre>` : ''); return; }
    $('#edit-result').innerHTML = `<div class="ok-box">Committed. The statement it ran:<pre class="edit-statement">${esc(j.statement)}</pre>` +
      `<div class="muted">${j.params.map((p, i) => `$${i + 1} = ${esc(JSON.stringify(p))}`).join(', ')}</div></div>`;
    const keep = box.innerHTML;
    await loadRows(false);
    box.innerHTML = keep;
  });
}

// ------------------------------------------------------------------ query
function showQuery() {
  const root = $('#view-query');
  if (state.loaded.query) return;
  state.loaded.query = true;
  const ro = !state.info.allow_edit;
  root.innerHTML = `<h2>Query <span class="muted">one statement, ${ro ? 'read-only (rolled back)' : 'read-write (committed)'}, cancelled after ${state.info.statement_timeout_ms} ms</span></h2>` +
    '<textarea id="sql" spellcheck="false" placeholder="SELECT * FROM dbkit_status()">SELECT tag, applied_at, applied_by FROM dbkit_status()</textarea>' +
    '<div class="toolbar"><button class="primary" id="run">Run (Ctrl+Enter)</button><span id="q-info" class="muted"></span></div><div id="q-error"></div><div class="data-wrap" id="q-result"></div>' +
    '<div class="pager"><button id="q-prev">← Previous</button><button id="q-next">Next →</button></div>';
  const q = { sql: '', offset: 0, limit: 100 };
  const run = async () => {
    const j = await api('/api/query', { sql: q.sql, offset: q.offset, limit: q.limit });
    $('#q-error').innerHTML = j.ok ? '' : errorHtml(j.error, q.sql);
    if (!j.ok) { $('#q-result').innerHTML = ''; $('#q-info').textContent = ''; return; }
    $('#q-info').textContent = `rows ${j.rows.length ? `${q.offset + 1}–${q.offset + j.rows.length}` : '0'}${j.more ? ' (more)' : ''} · ${ms(j.elapsed_ms)}${j.truncated ? ' · page cut at the byte limit' : ''}`;
    $('#q-result').innerHTML = j.columns.length ? '<table class="grid" id="q-table"><thead><tr>' + j.columns.map((c) => `<th>${esc(c)}</th>`).join('') + '</tr></thead><tbody>' +
      j.rows.map((r) => '<tr>' + r.map((v) => `<td class="${v === null ? 'null' : ''}">${v === null ? 'null' : esc(v.length > 500 ? v.slice(0, 500) + '…' : v)}</td>`).join('') + '</tr>').join('') + '</tbody></table>' : '<div class="muted">done</div>';
    $('#q-prev').disabled = q.offset === 0;
    $('#q-next').disabled = !j.more;
  };
  $('#run').addEventListener('click', () => { q.sql = $('#sql').value; q.offset = 0; run(); });
  $('#sql').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $('#run').click(); } });
  $('#q-next').addEventListener('click', () => { q.offset += q.limit; run(); });
  $('#q-prev').addEventListener('click', () => { q.offset = Math.max(0, q.offset - q.limit); run(); });
  $('#q-prev').disabled = $('#q-next').disabled = true;
}

init();
