// gridbot staff console: linked households (二十户包联, console/households.go)
// — the households one may see, a household's file (一户一档: its visits
// and its cases together), a visit recorded by its cadre, the town's
// spreadsheet import, and the visits counted. app.js hands over its api
// call and routes #/households and #/household/ID here. Text from the
// server goes on the page with textContent only.
'use strict';

window.gridbotHouseholds = (function () {
  const $ = (id) => document.getElementById(id);
  let api = null;
  let openID = '';

  function el(tag, text) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // when is app.js's: a moment in the town's zone.
  let when = (iso) => iso;

  function caseLink(number) {
    const a = el('a', number);
    a.href = '#/case/' + encodeURIComponent(number);
    return a;
  }

  function nonce() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  async function loadList() {
    $('households-error').textContent = '';
    const r = await api('GET', '/api/households');
    if (!r.ok) { $('households-error').textContent = r.data.error || '加载失败'; return; }
    const body = $('households-rows');
    body.replaceChildren();
    for (const h of r.data.households) {
      const tr = el('tr');
      const name = el('td');
      const a = el('a', h.name || h.address);
      a.href = '#/household/' + encodeURIComponent(h.id);
      name.appendChild(a);
      tr.append(name, el('td', h.address), el('td', h.grid_name), el('td', h.cadre_name + (h.mine ? '（我）' : '')), el('td', h.phone || '—'));
      body.appendChild(tr);
    }
    $('households-empty').hidden = r.data.households.length > 0;
    $('link-import-panel').hidden = !r.data.may_import;
    await loadFigures();
  }

  async function loadFigures() {
    const by = $('visits-by').value;
    $('visits-csv').href = '/api/figures/visits.csv?by=' + encodeURIComponent(by);
    const r = await api('GET', '/api/figures/visits?by=' + encodeURIComponent(by));
    const body = $('visits-figure-rows');
    body.replaceChildren();
    if (!r.ok) { $('households-error').textContent = r.data.error || '加载失败'; return; }
    for (const row of r.data.rows) {
      const tr = el('tr');
      if (row.key === 'total') tr.className = 'total';
      tr.append(el('td', row.name || row.key), el('td', String(row.visits)));
      body.appendChild(tr);
    }
  }

  // loadFile shows household id's file; again (a refresh of the file on
  // view) keeps what the person is doing: the notice, the error and the
  // visit form's key.
  async function loadFile(id, again) {
    openID = id;
    if (!again) {
      $('household-error').textContent = '';
      $('visit-notice').textContent = '';
    }
    const r = await api('GET', '/api/households/' + encodeURIComponent(id));
    if (again && (shown !== 'file' || openID !== id)) return; // left meanwhile
    if (!r.ok) {
      $('household-title').textContent = '一户一档';
      $('household-error').textContent = r.data.error || '加载失败';
      $('household-body').hidden = true;
      return;
    }
    $('household-body').hidden = false;
    const h = r.data.household;
    $('household-title').textContent = '一户一档：' + (h.name || '') + '（' + h.address + '）';
    $('household-grid').textContent = h.grid_name;
    $('household-cadre').textContent = h.cadre_name;
    $('household-phone').textContent = h.phone || '—';
    const form = $('visit-form');
    form.hidden = !r.data.may_visit;
    if (!again || !form.dataset.key) form.dataset.key = nonce();
    const cat = $('visit-category');
    if (cat.options.length === 0) {
      for (const c of r.data.categories) {
        const o = el('option', c.name);
        o.value = c.code;
        cat.appendChild(o);
      }
    }
    const visits = $('household-visits');
    visits.replaceChildren();
    for (const v of r.data.visits) {
      const tr = el('tr');
      const c = el('td');
      if (v.case) c.appendChild(caseLink(v.case)); else c.textContent = '—';
      tr.append(el('td', when(v.at)), el('td', v.cadre_name), el('td', v.found), c);
      visits.appendChild(tr);
    }
    $('household-visits-empty').hidden = r.data.visits.length > 0;
    const cases = $('household-cases');
    cases.replaceChildren();
    for (const c of r.data.cases) {
      const tr = el('tr');
      const n = el('td');
      n.appendChild(caseLink(c.number));
      tr.append(n, el('td', c.category_name || c.category), el('td', c.state_label || c.state), el('td', when(c.created_at)));
      cases.appendChild(tr);
    }
    $('household-cases-empty').hidden = r.data.cases.length > 0;
  }

  async function sendVisit(e) {
    e.preventDefault();
    const form = $('visit-form');
    const button = $('visit-send');
    $('household-error').textContent = '';
    $('visit-notice').textContent = '';
    button.disabled = true;
    try {
      const toCase = $('visit-to-case').checked;
      const r = await api('POST', '/api/households/' + encodeURIComponent(openID) + '/visits', {
        found: $('visit-found').value, to_case: toCase, category: toCase ? $('visit-category').value : '', key: form.dataset.key,
      });
      if (!r.ok) { $('household-error').textContent = r.data.error || '记录失败'; return; }
      $('visit-found').value = '';
      $('visit-to-case').checked = false;
      await loadFile(openID);
      $('visit-notice').textContent = r.data.case ? '已记录走访，发现的问题已上报，编号：' + r.data.case : '已记录走访';
    } finally {
      button.disabled = false;
    }
  }

  async function importLinks(e) {
    e.preventDefault();
    $('link-import-error').textContent = '';
    $('link-import-notice').textContent = '';
    const file = $('link-import-file').files[0];
    if (!file) return;
    const form = new FormData();
    form.append('file', file);
    let r;
    try {
      const res = await fetch('/api/households/import', { method: 'POST', credentials: 'same-origin', headers: { 'X-Requested-With': 'gridbot' }, body: form });
      let data = {};
      try { data = await res.json(); } catch (err) { data = { error: '服务器返回了无法识别的内容' }; }
      r = { ok: res.ok, data };
    } catch (err) {
      r = { ok: false, data: { error: '网络不通，请稍后再试' } };
    }
    if (!r.ok) { $('link-import-error').textContent = r.data.error || '导入失败'; return; }
    $('link-import-notice').textContent = '已导入 ' + r.data.linked + ' 户' + (r.data.refused.length ? '，' + r.data.refused.length + ' 行未导入（见下表）' : '');
    const table = $('link-import-refused');
    const body = table.querySelector('tbody');
    body.replaceChildren();
    for (const x of r.data.refused) {
      const tr = el('tr');
      tr.append(el('td', String(x.row)), el('td', x.reason));
      body.appendChild(tr);
    }
    table.hidden = r.data.refused.length === 0;
    $('link-import-file').value = '';
    await loadList();
  }

  // The pages shown here follow what changes elsewhere — a visit recorded
  // from chat, a linked household's case moving on — without a reload:
  // asked again on the console's live events (refresh) and, since a visit
  // files no event unless it files a case, every refreshEvery while shown
  // and the tab is visible (the live feed itself reads the log as often).
  const refreshEvery = 5000;
  let shown = null; // 'list', 'file' or null
  let refreshing = false;
  async function refresh() {
    // The page may have gone under the login page (logged out, session
    // ended): nothing to ask then.
    const view = shown === 'file' ? 'household-view' : 'households-view';
    if (!shown || refreshing || document.visibilityState !== 'visible' || $(view).hidden) return;
    refreshing = true;
    try {
      if (shown === 'file') await loadFile(openID, true);
      else await loadList();
    } finally {
      refreshing = false;
    }
  }

  function wire(calls) {
    setInterval(refresh, refreshEvery);
    api = calls.api;
    if (calls.when) when = calls.when;
    $('visit-form').addEventListener('submit', sendVisit);
    $('visit-to-case').addEventListener('change', (e) => { $('visit-category-label').hidden = !e.target.checked; });
    $('visits-by').addEventListener('change', loadFigures);
    $('link-import-form').addEventListener('submit', importLinks);
  }

  // nav shows the page to those who work cases (not the administrators).
  function nav(me) {
    $('nav-households').hidden = ['sysadmin', 'auditor', 'security', 'department'].includes(me.role);
  }

  // route shows the households' pages; false when h is not theirs.
  function route(h, me, show) {
    if (h === '#/households') { shown = 'list'; show('households-view'); loadList(); return true; }
    const m = h.match(/^#\/household\/(.+)$/);
    if (m) { shown = 'file'; show('household-view'); loadFile(decodeURIComponent(m[1])); return true; }
    shown = null;
    return false;
  }

  return { wire, nav, route, refresh };
})();
