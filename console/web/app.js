// gridbot staff console. Plain JavaScript, no build step.
//
// Every piece of text that comes from the server (residents' words above all)
// is put on the page with textContent or createTextNode, never as HTML.
//
// The live feed follows the server's event log: the list answer carries the
// log's position (seq), the websocket is opened with ?since= the last
// position seen, and every message carries its seq, so a reconnect receives
// exactly what was missed and nothing twice.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  const state = {
    me: null,
    // The town's time zone (IANA name, from /api/config): every time on the
    // page is shown in it, whatever zone this PC is set to.
    zone: 'Asia/Shanghai',
    dir: null, // villages, grids, departments, categories
    rows: new Map(), // number → list view of the case
    openNumber: '',
    openSeqs: new Set(),
    openActions: [],
    listSerial: 0,
    caseSerial: 0,
    liveDuringLoad: new Map(),
    view: '',
  };

  const live = {
    ws: null,
    wanted: false,
    backoff: 1000,
    timer: 0,
    lastSeq: null, // the feed's position; null until the first list
    heard: 0, // when the server last said anything
    watchdog: 0,
  };

  // ---- talking to the server ----

  async function api(method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: { 'X-Requested-With': 'gridbot' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      return { ok: false, status: 0, data: { error: '网络不通，请稍后再试' } };
    }
    let data = {};
    try {
      data = await res.json();
    } catch (e) {
      data = { error: '服务器返回了无法识别的内容' };
    }
    if (res.status === 401 && path !== '/api/login') {
      showLogin();
    }
    return { ok: res.ok, status: res.status, data };
  }

  // ---- views ----

  const views = ['login-view', 'list-view', 'case-view', 'board-view', 'figures-view', 'staff-view'];

  function show(view) {
    state.view = view;
    for (const id of views) $(id).hidden = id !== view;
  }

  function showLogin() {
    state.me = null;
    stopLive();
    $('me-name').textContent = '';
    $('logout').hidden = true;
    $('nav').hidden = true;
    show('login-view');
    $('login-user').focus();
  }

  async function showMain(me) {
    state.me = me;
    $('me-name').textContent = me.name + '（' + me.role_label + '）';
    $('logout').hidden = false;
    $('nav').hidden = false;
    $('nav-staff').hidden = me.role !== 'town';
    $('export-full-label').hidden = me.role !== 'town';
    await loadDirectory();
    route();
    await loadList();
    startLive();
  }

  function route() {
    if (!state.me) return;
    const h = location.hash;
    const m = h.match(/^#\/case\/(.+)$/);
    if (m) {
      openCase(decodeURIComponent(m[1]));
      return;
    }
    state.openNumber = '';
    if (h === '#/board') { show('board-view'); loadBoard(); return; }
    if (h === '#/figures') { show('figures-view'); loadFigures(); return; }
    if (h === '#/staff' && state.me.role === 'town') { show('staff-view'); loadStaff(); return; }
    show('list-view');
  }

  // ---- formatting ----

  // zoneParts splits a moment into its calendar fields in the town's zone.
  let zoneFormat = null;
  function zoneParts(d) {
    if (!zoneFormat || zoneFormat.resolvedOptions().timeZone !== state.zone) {
      zoneFormat = new Intl.DateTimeFormat('en-US', {
        timeZone: state.zone, hourCycle: 'h23',
        year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      });
    }
    const out = {};
    for (const p of zoneFormat.formatToParts(d)) out[p.type] = p.value;
    return out;
  }

  function when(iso) {
    if (!iso || iso.startsWith('0001-')) return '—';
    const d = new Date(iso);
    if (isNaN(d)) return '—';
    const p = zoneParts(d);
    return p.year + '-' + p.month + '-' + p.day + ' ' + p.hour + ':' + p.minute;
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function option(value, text) {
    const o = el('option', '', text);
    o.value = value;
    return o;
  }

  function row(cells) {
    const tr = el('tr');
    for (const c of cells) {
      if (c instanceof Node) { const td = el('td'); td.appendChild(c); tr.appendChild(td); } else tr.appendChild(el('td', '', c));
    }
    return tr;
  }

  // ---- the directory (choices for filters and forms) ----

  async function loadDirectory() {
    const r = await api('GET', '/api/directory');
    if (!r.ok) return;
    state.dir = r.data;
    const fill = (id, items, value, text, first) => {
      const s = $(id);
      s.replaceChildren();
      if (first) s.appendChild(option('', first));
      for (const it of items) s.appendChild(option(value(it), text(it)));
    };
    fill('filter-grid', r.data.grids, (g) => g.id, (g) => g.place, '全部');
    fill('filter-category', r.data.categories, (c) => c.code, (c) => c.name, '全部');
    fill('whistle-dept', r.data.departments, (d) => d.id, (d) => d.name);
    fill('reclassify-category', r.data.categories, (c) => c.code, (c) => c.name, '类别不变');
    fill('reclassify-grid', r.data.grids, (g) => g.id, (g) => g.place, '网格不变');
    fill('add-village', r.data.villages, (v) => v.id, (v) => v.name, '（无村）');
    fill('add-department', r.data.departments, (d) => d.id, (d) => d.name, '（无部门）');
    fill('post-grid', r.data.grids, (g) => g.id, (g) => g.place);
  }

  // ---- the list ----

  function filters() {
    const p = new URLSearchParams();
    p.set('state', $('filter-state').value);
    if ($('filter-grid').value) p.set('grid', $('filter-grid').value);
    if ($('filter-category').value) p.set('category', $('filter-category').value);
    if ($('filter-overdue').checked) p.set('overdue', '1');
    if ($('filter-mine').checked) p.set('mine', '1');
    const q = $('search').value.trim();
    if (q) p.set('q', q);
    return p;
  }

  const openStates = new Set(['submitted', 'assigned', 'in_progress', 'reopened']);

  // matchesFilter decides for a case a live event brought whether it
  // belongs in the list as filtered ("mine" is left to the server's next
  // answer: a live case stays if it was listed).
  function matchesFilter(c) {
    const s = $('filter-state').value;
    if (s === 'open' && !openStates.has(c.state)) return false;
    if (s !== 'open' && s !== '' && c.state !== s) return false;
    if ($('filter-grid').value && c.grid !== $('filter-grid').value) return false;
    if ($('filter-category').value && c.category !== $('filter-category').value) return false;
    if ($('filter-overdue').checked && !c.overdue) return false;
    if ($('filter-mine').checked && c.assignee !== state.me.id && !state.rows.has(c.number)) return false;
    const q = $('search').value.trim();
    if (q && !c.number.toUpperCase().includes(q.toUpperCase()) && !c.text.includes(q)) return false;
    return true;
  }

  function updateExportLink() {
    const p = filters();
    if ($('export-full').checked) p.set('phone', 'full');
    $('export-cases').href = '/api/cases.csv?' + p.toString();
  }

  async function loadList() {
    const serial = ++state.listSerial;
    state.liveDuringLoad = new Map();
    updateExportLink();
    const r = await api('GET', '/api/cases?' + filters().toString());
    if (serial !== state.listSerial) return; // a newer request is on its way
    if (!r.ok) {
      $('list-error').textContent = r.data.error || '列表加载失败';
      return;
    }
    $('list-error').textContent = '';
    if (live.lastSeq === null) live.lastSeq = r.data.seq;
    state.rows.clear();
    const body = $('case-list');
    body.replaceChildren();
    for (const c of r.data.cases) {
      state.rows.set(c.number, c);
      body.appendChild(caseRow(c));
    }
    for (const c of state.liveDuringLoad.values()) {
      const listed = state.rows.get(c.number);
      if (!listed || Date.parse(c.updated_at) > Date.parse(listed.updated_at)) upsertRow(c);
    }
    updateCount();
  }

  function updateCount() {
    const n = state.rows.size;
    $('list-count').textContent = '共 ' + n + ' 件';
    $('list-empty').hidden = n > 0;
  }

  function caseRow(c) {
    const tr = el('tr', 'case-row');
    tr.dataset.number = c.number;
    if (c.overdue) tr.classList.add('overdue');
    tr.appendChild(el('td', 'number', c.number));
    tr.appendChild(el('td', 'state', c.state_label));
    tr.appendChild(el('td', 'category', c.category_name || c.category));
    const text = el('td', 'cell-text', c.text);
    text.title = c.text;
    tr.appendChild(text);
    tr.appendChild(el('td', 'place', c.place));
    tr.appendChild(el('td', 'assignee', c.assignee_name || '—'));
    tr.appendChild(el('td', 'deadline', when(c.deadline) + (c.overdue ? ' 已超时' : '')));
    tr.addEventListener('click', () => {
      location.hash = '#/case/' + encodeURIComponent(c.number);
    });
    return tr;
  }

  function findRow(number) {
    for (const tr of $('case-list').children) {
      if (tr.dataset.number === number) return tr;
    }
    return null;
  }

  // upsertRow puts a case's new state in the list: replaced in place, added
  // in number order (newest first), or taken out when it no longer matches.
  function upsertRow(c) {
    const body = $('case-list');
    const old = findRow(c.number);
    if (!matchesFilter(c)) {
      if (old) old.remove();
      state.rows.delete(c.number);
      updateCount();
      return;
    }
    const tr = caseRow(c);
    tr.classList.add('fresh');
    state.rows.set(c.number, c);
    if (old) {
      old.replaceWith(tr);
    } else {
      let before = null;
      for (const other of body.children) {
        if (other.dataset.number < c.number) { before = other; break; }
      }
      body.insertBefore(tr, before);
    }
    updateCount();
  }

  // ---- one case ----

  async function openCase(number) {
    const serial = ++state.caseSerial;
    if (state.openNumber !== number) {
      state.openNumber = number;
      state.openSeqs = new Set();
      $('case-timeline').replaceChildren();
      $('case-household').replaceChildren();
      $('case-error').textContent = '';
      $('case-notice').textContent = '';
      for (const id of ['reply-text', 'resolve-text', 'whistle-reason', 'return-reason', 'reclassify-reason']) $(id).value = '';
      resetReclassify();
      showActions([]);
    }
    show('case-view');
    const r = await api('GET', '/api/cases/' + encodeURIComponent(number));
    if (serial !== state.caseSerial || state.openNumber !== number) return;
    if (!r.ok) {
      $('case-error').textContent = r.data.error || '案件加载失败';
      return;
    }
    showCase(r.data.case);
    for (const ev of r.data.events) addEvent(ev);
    showHousehold(r.data.household || []);
  }

  function showCase(c) {
    $('case-number').textContent = c.number;
    showCaseState(c);
    $('case-category').textContent = c.category_name || c.category;
    $('case-text').textContent = c.text;
    $('case-place').textContent = c.place || '—';

    const loc = $('case-location');
    if (c.location) {
      const parts = [c.location.lat.toFixed(6) + ', ' + c.location.lng.toFixed(6)];
      if (c.location.label) parts.push(c.location.label);
      loc.textContent = parts.join('  ');
    } else {
      loc.textContent = c.phone_visible ? '未提供' : '（仅承办人可见）';
    }

    // Photos and voice notes are the copies gridbot kept (WeChat's own
    // links expire); /api/media checks the viewer may see this case.
    const media = $('case-photos');
    media.replaceChildren();
    const items = (c.photos || []).map((p, i) => ['照片 ' + (i + 1), p.media_id])
      .concat((c.voices || []).map((v, i) => ['语音 ' + (i + 1), v.media_id]));
    if (items.length === 0) media.textContent = '无';
    items.forEach(([label, id]) => {
      const a = el('a', 'photo', label);
      a.href = '/api/media/' + encodeURIComponent(id);
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      media.appendChild(a);
      media.appendChild(document.createTextNode(' '));
    });
    $('case-joined').textContent = c.joined ? c.joined + ' 位居民附议' : '无';

    $('case-phone').textContent = (c.phone || '未留') + (c.phone && !c.phone_visible ? '（仅承办人可见完整号码）' : '');
    $('case-result').textContent = c.result || '—';
    $('case-rating').textContent = c.rating ? c.rating + ' 分' : '—';
    const deps = (c.departments || []).map((d) => d.name + '（' + ({ called: '已吹哨', signed: '已领办', returned: '已退回' }[d.state] || d.state) + (d.lead ? '，牵头' : '') + '）');
    $('case-departments').textContent = deps.length ? deps.join('，') : '—';
    const warn = $('case-warning');
    warn.hidden = !c.warning;
    warn.textContent = c.warning === 'red' ? '红牌' : '黄牌';
    warn.className = 'warning warning-' + (c.warning || 'none');
    showActions(c.actions || []);
  }

  // showActions offers exactly the steps the server says this staff member
  // may take now.
  function showActions(actions) {
    state.openActions = actions;
    for (const node of document.querySelectorAll('#case-view [data-action]')) {
      node.hidden = !actions.includes(node.dataset.action);
    }
  }

  // showCaseState shows the fields that the list view of a case also carries,
  // so a live event can update them.
  function showCaseState(c) {
    $('case-state').textContent = c.state_label;
    $('case-overdue').hidden = !c.overdue;
    $('case-assignee').textContent = c.assignee_name || '—';
    $('case-deadline').textContent = when(c.deadline);
    $('case-created').textContent = when(c.created_at);
  }

  function showHousehold(list) {
    const body = $('case-household');
    body.replaceChildren();
    for (const c of list) {
      const a = el('a', '', c.number);
      a.href = '#/case/' + encodeURIComponent(c.number);
      body.appendChild(row([a, c.relation, c.state_label, c.category_name || c.category, c.text, when(c.created_at)]));
    }
    $('household-empty').hidden = list.length > 0;
  }

  const reasons = { by_hand: '手动转B岗', silent: 'A岗超时未受理', not_done: '居民反映未解决', rating: '居民评价不满意', town: '镇级决定重办', no_wechat: '未绑定微信', gave_up: '多次重试失败' };

  function eventDetail(ev) {
    const d = ev.data || {};
    switch (ev.kind) {
      case 'assigned':
      case 'transferred':
      case 'reopened':
        return (d.assignee_name ? '派给 ' + d.assignee_name + (d.post ? '（' + d.post + '岗）' : '') : '') + (d.reason ? '，' + (reasons[d.reason] || d.reason) : '');
      case 'rated':
        return d.rating ? '评分 ' + d.rating + ' 分' : '';
      case 'delivered':
        return (d.to_name ? '送达 ' + d.to_name : '') + (d.channel === 'template' ? '（模板消息）' : '');
      case 'undeliverable':
        return (d.to_name ? '发给 ' + d.to_name : '') + (d.errcode && d.errcode !== '0' ? '，错误码 ' + d.errcode : '') + (d.reason ? '，' + (reasons[d.reason] || d.reason) : '');
      case 'whistled':
      case 'signed':
      case 'returned':
        return d.department ? (d.department_name || '') + (d.lead === 'true' ? '（牵头）' : '') : '';
      case 'warned':
      case 'escalated':
        return d.level ? '级别 ' + ({ yellow: '黄牌', grid: '网格', village: '村（社区）', town: '镇' }[d.level] || d.level) : '';
      case 'reclassified': {
        const parts = [];
        if (d.category) parts.push('类别 ' + (d.old_category_name || '') + ' → ' + (d.category_name || ''));
        if (d.grid) parts.push('网格 ' + (d.old_grid_name || '') + ' → ' + (d.grid_name || ''));
        return parts.join('，');
      }
      case 'closed':
        return d.unrated === 'true' ? '居民未评价，自动结案' : '';
    }
    return '';
  }

  // addEvent puts an event into the open case's timeline once, in order.
  function addEvent(ev) {
    if (ev.case !== state.openNumber || state.openSeqs.has(ev.seq)) return;
    state.openSeqs.add(ev.seq);
    const li = el('li', 'event');
    li.dataset.seq = String(ev.seq);
    li.dataset.kind = ev.kind;
    li.appendChild(el('span', 'at', when(ev.at)));
    li.appendChild(el('span', 'label', ev.label));
    li.appendChild(el('span', 'actor', ev.actor_name));
    const detail = eventDetail(ev);
    if (detail) li.appendChild(el('span', 'detail', ' ' + detail));
    if (ev.text) li.appendChild(el('span', 'body', ev.text));
    const list = $('case-timeline');
    let before = null;
    for (const other of list.children) {
      if (Number(other.dataset.seq) > ev.seq) { before = other; break; }
    }
    list.insertBefore(li, before);
    if (ev.kind === 'resolved' && ev.text) $('case-result').textContent = ev.text;
  }

  // resetReclassify puts the correction form back to "no change": a choice
  // made on one case must never ride along to another case, or to a second
  // correction of the same one.
  function resetReclassify() {
    $('reclassify-category').value = '';
    $('reclassify-grid').value = '';
    $('reclassify-reason').value = '';
  }

  // sendStep sends one step of the open case and reports whether it was
  // taken.
  async function sendStep(action, body, button, boxes, done) {
    const number = state.openNumber;
    $('case-error').textContent = '';
    $('case-notice').textContent = '';
    button.disabled = true;
    try {
      const r = await api('POST', '/api/cases/' + encodeURIComponent(number) + '/' + action, body);
      if (number !== state.openNumber) return false;
      if (!r.ok) {
        $('case-error').textContent = r.data.error || '操作失败';
        return false;
      }
      for (const b of boxes) b.value = '';
      showCase(r.data.case);
      for (const ev of r.data.events) addEvent(ev);
      $('case-notice').textContent = done;
      return true;
    } finally {
      button.disabled = false;
    }
  }

  // ---- supervision and figures ----

  async function loadBoard() {
    const r = await api('GET', '/api/figures/board');
    const body = $('board-rows');
    body.replaceChildren();
    $('board-error').textContent = r.ok ? '' : (r.data.error || '加载失败');
    if (!r.ok) return;
    for (const b of r.data.rows) {
      const links = el('span');
      for (const n of b.cases) {
        const a = el('a', '', n);
        a.href = '#/case/' + encodeURIComponent(n);
        links.appendChild(a);
        links.appendChild(document.createTextNode(' '));
      }
      body.appendChild(row([b.kind === 'grid' ? '网格' : '部门', b.name, b.open, b.yellow, b.red, b.overdue, links]));
    }
    if (r.data.rows.length === 0) body.appendChild(row(['—', '暂无在办案件', '', '', '', '', '']));
  }

  function thisMonth() {
    const p = zoneParts(new Date());
    return p.year + '-' + p.month;
  }

  async function loadFigures() {
    if (!$('ledger-month').value) $('ledger-month').value = thisMonth();
    const rp = new URLSearchParams({ by: $('rates-by').value });
    const lp = new URLSearchParams({ by: $('ledger-by').value, month: $('ledger-month').value });
    $('rates-csv').href = '/api/figures/rates.csv?' + rp.toString();
    $('ledger-csv').href = '/api/figures/ledger.csv?' + lp.toString();
    const [rates, ledger] = await Promise.all([
      api('GET', '/api/figures/rates?' + rp.toString()),
      api('GET', '/api/figures/ledger?' + lp.toString()),
    ]);
    $('figures-error').textContent = !rates.ok ? rates.data.error : (!ledger.ok ? ledger.data.error : '');
    if (rates.ok) {
      const body = $('rates-rows');
      body.replaceChildren();
      for (const x of rates.data.rows) {
        body.appendChild(row([x.name, x.cases,
          x.response_rate + '（' + x.response_on_time + '/' + x.response_due + '）',
          x.resolution_rate + '（' + x.resolution_on_time + '/' + x.resolution_due + '）',
          x.satisfaction_rate + '（' + x.satisfied + '/' + x.rated + '）']));
      }
    }
    if (ledger.ok) {
      const body = $('ledger-rows');
      body.replaceChildren();
      for (const x of ledger.data.rows) {
        const tr = row([x.name, x.opened, x.closed, x.open, x.overdue, x.reopened]);
        tr.dataset.key = x.key;
        body.appendChild(tr);
      }
    }
  }

  // ---- staff administration (town) ----

  async function loadStaff() {
    const r = await api('GET', '/api/staff');
    const body = $('staff-rows');
    body.replaceChildren();
    if (!r.ok) { $('staff-error').textContent = r.data.error || '加载失败'; return; }
    const villageName = (id) => { const v = state.dir.villages.find((x) => x.id === id); return v ? v.name : id; };
    const deptName = (id) => { const d = state.dir.departments.find((x) => x.id === id); return d ? d.name : id; };
    const leaders = $('post-staff');
    leaders.replaceChildren();
    for (const s of r.data.staff) {
      const ops = el('span', 'ops');
      const btn = (text, fn) => { const b = el('button', '', text); b.type = 'button'; b.addEventListener('click', fn); ops.appendChild(b); };
      btn(s.disabled ? '启用' : '停用', () => staffStep('/api/staff/' + encodeURIComponent(s.id) + '/disable', { disabled: !s.disabled }, s.disabled ? '已启用' : '已停用'));
      btn('重置密码', () => {
        const p = window.prompt('为 ' + s.name + ' 设置新密码（至少8位）');
        if (p) staffStep('/api/staff/' + encodeURIComponent(s.id) + '/password', { password: p }, '密码已重置');
      });
      btn('微信绑定码', async () => {
        const x = await api('POST', '/api/staff/' + encodeURIComponent(s.id) + '/bind-code', {});
        if (!x.ok) { $('staff-error').textContent = x.data.error || '操作失败'; return; }
        $('staff-notice').textContent = s.name + ' 的绑定码：' + x.data.code + '（' + x.data.expires_minutes + ' 分钟内在公众号发送“绑定 ' + x.data.code + '”）';
      });
      const tr = row([s.id, s.name, s.role_label, s.village ? villageName(s.village) : (s.department ? deptName(s.department) : '—'),
        (s.post_names || []).join('，') || '—', s.disabled ? '已停用' : (s.has_password ? '正常' : '未设密码'), ops]);
      tr.dataset.id = s.id;
      body.appendChild(tr);
      if (s.role === 'grid' && !s.disabled) leaders.appendChild(option(s.id, s.name + '（' + s.id + '）'));
    }
  }

  async function staffStep(path, body, done) {
    $('staff-error').textContent = '';
    $('staff-notice').textContent = '';
    const r = await api('POST', path, body);
    if (!r.ok) { $('staff-error').textContent = r.data.error || '操作失败'; return false; }
    $('staff-notice').textContent = done;
    await loadStaff();
    return true;
  }

  // ---- live updates ----

  function setConn(kind, text) {
    const s = $('conn-state');
    s.className = 'conn conn-' + kind;
    s.textContent = text;
  }

  function startLive() {
    live.wanted = true;
    live.backoff = 1000;
    clearInterval(live.watchdog);
    // The server says something at least every 25 seconds; a minute of
    // silence means the connection is dead even if the browser has not
    // noticed (a laptop that slept, a proxy that dropped it).
    live.watchdog = setInterval(() => {
      if (live.ws && live.ws.readyState === WebSocket.OPEN && Date.now() - live.heard > 60000) {
        setConn('off', '已断开，正在重连');
        live.ws.close();
      }
    }, 5000);
    connect();
  }

  function stopLive() {
    live.wanted = false;
    live.lastSeq = null;
    clearTimeout(live.timer);
    clearInterval(live.watchdog);
    if (live.ws) {
      const ws = live.ws;
      live.ws = null;
      ws.close();
    }
    setConn('off', '未连接');
  }

  function connect() {
    if (!live.wanted || live.ws) return;
    setConn('wait', '连接中…');
    let url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws';
    if (live.lastSeq !== null) url += '?since=' + encodeURIComponent(live.lastSeq);
    const ws = new WebSocket(url);
    live.ws = ws;
    ws.onopen = () => {
      if (live.ws !== ws) return;
      live.backoff = 1000;
      live.heard = Date.now();
      setConn('on', '已连接');
    };
    ws.onmessage = (m) => {
      if (live.ws !== ws) return;
      live.heard = Date.now();
      let msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (msg.type === 'resync') { resync(); return; }
      // A burst of events comes as one "events" message.
      const items = msg.type === 'events' && Array.isArray(msg.events) ? msg.events : [msg];
      let reopen = false;
      for (const item of items) {
        if (typeof item.seq !== 'number') continue;
        if (live.lastSeq !== null && item.seq <= live.lastSeq) continue; // seen already
        live.lastSeq = item.seq;
        if (item.type !== 'event') continue;
        state.liveDuringLoad.set(item.case.number, item.case);
        upsertRow(item.case);
        if (item.case.number === state.openNumber) {
          showCaseState(item.case);
          addEvent(item.event);
          // The case's own page refreshes its actions and details.
          if (['reopened', 'resolved', 'closed', 'whistled', 'signed', 'returned', 'transferred', 'reclassified', 'accepted', 'rated', 'assigned'].includes(item.event.kind)) {
            reopen = true;
          }
        }
      }
      if (reopen) openCase(state.openNumber);
    };
    ws.onclose = (e) => {
      if (live.ws !== ws) return;
      live.ws = null;
      if (!live.wanted) return;
      if (e.code === 4000) { resync(); return; }
      setConn('off', '已断开，正在重连');
      const wait = live.backoff * (0.75 + Math.random() / 2);
      live.backoff = Math.min(live.backoff * 2, 30000);
      live.timer = setTimeout(reconnect, wait);
    };
  }

  // resync reloads everything from the API when the feed says the page is
  // too far behind to catch up event by event, then follows from there.
  async function resync() {
    if (live.ws) { const ws = live.ws; live.ws = null; ws.close(); }
    setConn('wait', '正在重新加载');
    live.lastSeq = null;
    await loadList();
    if (state.openNumber) openCase(state.openNumber);
    connect();
  }

  async function reconnect() {
    if (!live.wanted) return;
    // A handshake refused for an expired login looks like any other close;
    // asking who we are tells them apart (a 401 shows the login form).
    const r = await api('GET', '/api/me');
    if (r.status === 401 || !live.wanted) return;
    if (!r.ok) {
      live.timer = setTimeout(reconnect, live.backoff);
      live.backoff = Math.min(live.backoff * 2, 30000);
      return;
    }
    connect();
  }

  // ---- wiring ----

  function wire() {
    $('login-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      $('login-error').textContent = '';
      $('login-submit').disabled = true;
      try {
        const r = await api('POST', '/api/login', { username: $('login-user').value.trim(), password: $('login-pass').value });
        if (!r.ok) {
          $('login-error').textContent = r.data.error || '登录失败';
          return;
        }
        $('login-pass').value = '';
        await showMain(r.data.staff);
      } finally {
        $('login-submit').disabled = false;
      }
    });
    $('logout').addEventListener('click', async () => {
      await api('POST', '/api/logout');
      showLogin();
    });
    for (const id of ['filter-state', 'filter-grid', 'filter-category', 'filter-overdue', 'filter-mine']) {
      $(id).addEventListener('change', loadList);
    }
    $('export-full').addEventListener('change', updateExportLink);
    let searchTimer = 0;
    $('search').addEventListener('input', () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(loadList, 300);
    });
    $('reply-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('reply', { text: $('reply-text').value }, $('reply-send'), [$('reply-text')], '回复已记录，将送达居民');
    });
    $('resolve-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('resolve', { result: $('resolve-text').value }, $('resolve-send'), [$('resolve-text')], '已办结，等待居民评价');
    });
    $('whistle-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('whistle', { department: $('whistle-dept').value, reason: $('whistle-reason').value }, $('whistle-send'), [$('whistle-reason')], '已吹哨，部门将收到通知');
    });
    $('return-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('return', { reason: $('return-reason').value }, $('return-send'), [$('return-reason')], '已退回');
    });
    $('reclassify-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('reclassify', { category: $('reclassify-category').value, grid: $('reclassify-grid').value, reason: $('reclassify-reason').value },
        $('reclassify-send'), [$('reclassify-reason')], '已更正并记录').then((ok) => { if (ok) resetReclassify(); });
    });
    const done = { accept: '已受理', transfer: '已转B岗', sign: '已领办', reopen: '已重新办理' };
    for (const name of Object.keys(done)) {
      const b = $('act-' + name);
      b.addEventListener('click', () => {
        if (name === 'reopen' && !window.confirm('确定重新办理此案件？')) return;
        sendStep(name, {}, b, [], done[name]);
      });
    }
    $('rates-by').addEventListener('change', loadFigures);
    $('ledger-by').addEventListener('change', loadFigures);
    $('ledger-month').addEventListener('change', loadFigures);
    $('staff-add-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const ok = await staffStep('/api/staff', {
        id: $('add-id').value.trim(), name: $('add-name').value.trim(), role: $('add-role').value,
        village: $('add-village').value, department: $('add-department').value, password: $('add-password').value,
      }, '已新增');
      if (ok) for (const id of ['add-id', 'add-name', 'add-password']) $(id).value = '';
    });
    $('post-form').addEventListener('submit', (e) => {
      e.preventDefault();
      staffStep('/api/grids/' + encodeURIComponent($('post-grid').value) + '/post', { post: $('post-post').value, staff: $('post-staff').value }, '岗位已设置');
    });
    window.addEventListener('hashchange', route);
    // Back from sleep or offline: check the connection at once.
    const poke = () => {
      if (!live.wanted) return;
      if (!live.ws) { clearTimeout(live.timer); reconnect(); }
      else if (Date.now() - live.heard > 30000) live.ws.close();
    };
    window.addEventListener('online', poke);
    document.addEventListener('visibilitychange', () => { if (!document.hidden) poke(); });
    window.addEventListener('offline', () => { if (live.wanted) setConn('off', '网络已断开'); });
  }

  async function loadConfig() {
    const r = await api('GET', '/api/config');
    if (!r.ok) return;
    if (r.data.zone) state.zone = r.data.zone;
    if (r.data.product) {
      state.product = r.data.product;
      document.title = r.data.product + ' · 工作台';
      $('product').textContent = r.data.product;
    }
  }

  async function start() {
    wire();
    await loadConfig();
    const r = await api('GET', '/api/me');
    if (r.ok) {
      await showMain(r.data.staff);
    } else if (r.status !== 401) {
      showLogin();
      $('login-error').textContent = r.data.error || '服务器暂时不可用';
    }
  }

  start();
})();
