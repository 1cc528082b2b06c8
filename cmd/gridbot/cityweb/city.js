// The city's view of its towns' figures (README: Towns as tenants).
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  async function api(method, path, body) {
    const opt = { method, credentials: 'same-origin', headers: { 'X-Requested-With': 'gridbot' } };
    if (body) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    const r = await fetch(path, opt);
    let data = {};
    try { data = await r.json(); } catch (e) { /* no body */ }
    return { ok: r.ok, status: r.status, data };
  }
  function cell(tr, text) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function row(tbody, r, name, total) {
    const tr = document.createElement('tr');
    if (total) tr.className = 'total';
    if (name instanceof Node) {
      const td = document.createElement('td');
      td.appendChild(name);
      tr.appendChild(td);
    } else {
      cell(tr, name);
    }
    cell(tr, String(r.cases));
    cell(tr, r.response_rate);
    cell(tr, r.resolution_rate);
    cell(tr, r.satisfaction_rate);
    cell(tr, String(r.extended));
    tbody.appendChild(tr);
  }
  let drilled = '', casesState = 'open', lastCase = '';
  const when = (t) => (t && !t.startsWith('0001')) ? new Date(t).toLocaleString('zh-CN', { hour12: false }) : '';
  async function loadCases(key, state, before) {
    const q = '?state=' + state + (before ? '&before=' + encodeURIComponent(before) : '');
    const r = await api('GET', '/city/api/towns/' + encodeURIComponent(key) + '/cases' + q);
    if (r.status === 401) return showLogin();
    if (!r.ok) return;
    casesState = state;
    const tbody = $('cases').querySelector('tbody');
    if (!before) tbody.textContent = '';
    for (const c of r.data.cases) {
      const tr = document.createElement('tr');
      tr.dataset.number = c.number;
      for (const v of [c.number, c.category, c.place, c.state, when(c.created_at), when(c.deadline), c.overdue ? '超期' : '']) cell(tr, v);
      tbody.appendChild(tr);
      lastCase = c.number;
    }
    $('cases-more').hidden = !r.data.more;
  }
  async function drill(key, by) {
    drilled = key;
    const r = await api('GET', '/city/api/towns/' + encodeURIComponent(key) + '/figures?by=' + by);
    if (r.status === 401) return showLogin();
    if (!r.ok) return;
    $('drill-title').textContent = r.data.town.name + (by === 'grid' ? ' · 各网格' : ' · 各村（社区）');
    const tbody = $('units').querySelector('tbody');
    tbody.textContent = '';
    for (const u of r.data.rows) row(tbody, u, u.key === 'total' ? '合计' : (u.name || u.key), u.key === 'total');
    $('drill').hidden = false;
    await loadCases(key, casesState, '');
  }
  async function showFigures() {
    const r = await api('GET', '/city/api/figures');
    if (r.status === 401) return showLogin();
    if (!r.ok) return;
    $('title').textContent = '网格通 · ' + r.data.city;
    const tbody = $('towns').querySelector('tbody');
    tbody.textContent = '';
    for (const t of r.data.towns) {
      const b = document.createElement('button');
      b.className = 'link';
      b.textContent = t.name;
      b.dataset.town = t.key;
      b.addEventListener('click', () => drill(t.key, 'village'));
      row(tbody, t, b, false);
    }
    row(tbody, r.data.total, r.data.total.name, true);
    $('login-view').hidden = true;
    $('figures-view').hidden = false;
    $('logout').hidden = false;
  }
  function showLogin() {
    $('figures-view').hidden = true;
    $('logout').hidden = true;
    $('who').textContent = '';
    $('login-view').hidden = false;
  }
  window.addEventListener('DOMContentLoaded', async () => {
    $('login-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      $('login-error').textContent = '';
      const r = await api('POST', '/city/api/login', {
        username: $('login-user').value.trim(), password: $('login-pass').value, code: $('login-code').value.trim(),
      });
      if (!r.ok) {
        $('login-error').textContent = r.data.error || '登录失败';
        return;
      }
      if (r.data.second_factor) {
        $('code-row').hidden = false;
        $('enrol').hidden = !r.data.enrol;
        $('enrol-secret').textContent = r.data.secret || '';
        $('login-code').focus();
        return;
      }
      $('login-pass').value = '';
      $('login-code').value = '';
      $('who').textContent = r.data.staff.name;
      await showFigures();
    });
    $('logout').addEventListener('click', async () => {
      await api('POST', '/city/api/logout');
      showLogin();
    });
    $('by-village').addEventListener('click', () => drilled && drill(drilled, 'village'));
    $('by-grid').addEventListener('click', () => drilled && drill(drilled, 'grid'));
    $('cases-open').addEventListener('click', () => drilled && loadCases(drilled, 'open', ''));
    $('cases-all').addEventListener('click', () => drilled && loadCases(drilled, 'all', ''));
    $('cases-more').addEventListener('click', () => drilled && loadCases(drilled, casesState, lastCase));
    const me = await api('GET', '/city/api/me');
    if (me.ok) {
      $('who').textContent = me.data.staff.name;
      await showFigures();
    } else {
      showLogin();
    }
  });
})();
