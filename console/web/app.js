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
    // The list comes a page at a time (加载更多): more says the server has
    // cases below cursor, the number of the last case it listed; the next
    // page is asked for before it. liveDuringMore keeps what the live feed
    // brought while that page was on its way.
    more: false,
    cursor: '',
    liveDuringMore: null,
    view: '',
  };

  const live = {
    connected: false,
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
    if (res.status === 401 && !path.startsWith('/api/login')) {
      showLogin();
      // Why the session ended: idle, or a newer login elsewhere.
      if (data.error && data.error !== '请先登录') $('login-error').textContent = data.error;
    }
    return { ok: res.ok, status: res.status, data };
  }

  // ---- views ----

  const views = ['login-view', 'list-view', 'case-view', 'map-view', 'board-view', 'figures-view', 'staff-view', 'meeting-view',
    'audit-view', 'security-view', 'households-view', 'household-view'];

  function show(view) {
    state.view = view;
    for (const id of views) $(id).hidden = id !== view;
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.view === view || (view === 'case-view' && a.dataset.view === 'list-view')) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (view === 'list-view') alerts.seen();
  }

  function showLogin() {
    state.me = null;
    $('session-banner').hidden = true;
    document.body.classList.add('logged-out');
    $('alerts-panel').hidden = true;
    $('password-panel').hidden = true;
    $('password-toggle').hidden = true;
    stopLive();
    $('me-name').textContent = '';
    $('logout').hidden = true;
    $('nav').hidden = true;
    show('login-view');
    $('login-user').focus();
  }

  // loadChannel shows the choice of the channel one's notices try first,
  // where there are two to choose from (通知走微信 / 通知走企业微信 in chat).
  async function loadChannel() {
    const r = await api('GET', '/api/me/channel');
    const box = $('channel-choice');
    box.hidden = !r.ok || r.data.channels.filter((c) => c.bound).length < 2;
    box.dataset.loaded = 'yes';
    if (box.hidden) return;
    for (const input of box.querySelectorAll('input[name=notify-channel]')) {
      input.checked = input.value === r.data.first;
      input.onchange = async () => {
        const x = await api('POST', '/api/me/channel', { channel: input.value });
        $('channel-note').textContent = x.ok ? '已设置：通知先发到' + (input.value === 'wecom' ? '企业微信' : '微信') + '，发不出时改发另一个。'
          : (x.data.error || '设置失败');
        if (!x.ok) loadChannel();
      };
    }
  }

  // The person's own password (等保: changed by its holder, checked by the
  // town's policy). The server ends every session of theirs, this one too,
  // so they log in again with the new one.
  function wirePassword() {
    $('password-toggle').addEventListener('click', () => {
      const p = $('password-panel');
      p.hidden = !p.hidden;
      $('password-toggle').setAttribute('aria-expanded', String(!p.hidden));
      if (!p.hidden) $('password-current').focus();
    });
    $('password-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const note = $('password-note');
      if ($('password-new').value !== $('password-again').value) {
        note.textContent = '两次输入的新密码不一致';
        return;
      }
      $('password-submit').disabled = true;
      const r = await api('POST', '/api/me/password', { current: $('password-current').value, new: $('password-new').value });
      $('password-submit').disabled = false;
      if (!r.ok) {
        note.textContent = r.data.error || '修改失败';
        return;
      }
      $('password-form').reset();
      showLogin();
      $('login-error').textContent = '密码已修改，请用新密码登录。';
    });
  }

  async function showMain(me) {
    state.me = me;
    document.body.classList.remove('logged-out');
    $('me-name').textContent = me.name + '（' + me.role_label + '）';
    $('logout').hidden = false;
    $('password-toggle').hidden = false;
    $('nav').hidden = false;
    // 三权分立: each administrator sees their own page, and no case.
    $('nav-staff').hidden = me.role !== 'sysadmin';
    window.gridbotAdmin.nav(me);
    window.gridbotHouseholds.nav(me);
    $('export-full-label').hidden = me.role !== 'town';
    loadChannel();
    await loadDirectory();
    if (window.gridbotDesk) window.gridbotDesk.loggedIn(me, state.dir);
    route();
    await loadList();
    startLive();
  }

  function route() {
    if (!state.me) return;
    const h = location.hash;
    if (window.gridbotAdmin.route(h, state.me, show)) return;
    if (window.gridbotHouseholds.route(h, state.me, show)) return;
    const m = h.match(/^#\/case\/(.+)$/);
    if (m) {
      openCase(decodeURIComponent(m[1]));
      return;
    }
    state.openNumber = '';
    const g = h.match(/^#\/grid\/(.+)$/);
    if (g) {
      // The map's way into a grid's queue: its open cases.
      $('filter-grid').value = decodeURIComponent(g[1]);
      $('filter-state').value = 'open';
      show('list-view');
      loadList();
      return;
    }
    if (h === '#/map') { show('map-view'); loadMap(); return; }
    if (h === '#/board') { show('board-view'); loadBoard(); return; }
    if (h === '#/figures') { show('figures-view'); loadFigures(); return; }
    if (h === '#/meeting') { show('meeting-view'); loadAgenda(); return; }
    if (h === '#/staff' && state.me.role === 'sysadmin') { show('staff-view'); loadStaff(); return; }
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

  // row makes a table row; labels (the column names) let a phone show the
  // row as a card.
  function row(cells, labels) {
    const tr = el('tr');
    cells.forEach((c, i) => {
      let td;
      if (c instanceof Node) { td = el('td'); td.appendChild(c); } else td = el('td', '', c);
      if (labels && labels[i]) td.dataset.label = labels[i];
      tr.appendChild(td);
    });
    return tr;
  }

  // columns lists the column names of the table a tbody belongs to.
  function columns(tbody) {
    const table = tbody.closest('table');
    return table ? [...table.querySelectorAll('thead th')].map((th) => th.textContent) : [];
  }

  // stateBadge is a case's state in its colour.
  function stateBadge(c) {
    return el('span', 'state state-' + c.state, c.state_label);
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
    $('export-xlsx').href = '/api/cases.xlsx?' + p.toString();
  }

  // loadList loads the first page of the list as filtered.
  async function loadList() {
    const serial = ++state.listSerial;
    state.liveDuringLoad = new Map();
    state.liveDuringMore = null; // a page of the former filter is dropped
    $('list-more').disabled = false;
    $('list-more').textContent = '加载更多';
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
    $('case-list').replaceChildren();
    state.more = false;
    appendPage(r.data);
    applyLive(state.liveDuringLoad, '');
  }

  // loadMore appends the next page (加载更多): the same filters, below the
  // last case listed. A filter changed meanwhile (a newer loadList) drops
  // its answer.
  async function loadMore() {
    if (!state.more || state.liveDuringMore) return; // nothing more, or on its way
    const serial = state.listSerial;
    const cursor = state.cursor;
    const button = $('list-more');
    state.liveDuringMore = new Map();
    button.disabled = true;
    button.textContent = '加载中…';
    const p = filters();
    p.set('before', cursor);
    const r = await api('GET', '/api/cases?' + p.toString());
    if (serial !== state.listSerial) return;
    const during = state.liveDuringMore;
    state.liveDuringMore = null;
    button.disabled = false;
    button.textContent = '加载更多';
    if (!r.ok) {
      $('list-error').textContent = r.data.error || '列表加载失败';
      return;
    }
    $('list-error').textContent = '';
    appendPage(r.data);
    applyLive(during, cursor);
  }

  // appendPage adds a page's cases below the rows listed. A case already
  // listed (brought by the live feed) keeps one row, the newer.
  function appendPage(data) {
    const body = $('case-list');
    for (const c of data.cases) {
      const listed = state.rows.get(c.number);
      if (listed) {
        if (Date.parse(c.updated_at) > Date.parse(listed.updated_at)) upsertRow(c);
        continue;
      }
      state.rows.set(c.number, c);
      body.appendChild(caseRow(c));
    }
    if (data.cases.length > 0) state.cursor = data.cases[data.cases.length - 1].number;
    state.more = !!data.more && data.cases.length > 0;
    updateCount();
  }

  // applyLive puts in the list what the live feed brought while a page was
  // on its way, where the page read it older (below: only the cases below
  // that number, the ones the page covered).
  function applyLive(during, below) {
    for (const c of during.values()) {
      if (below && c.number >= below) continue; // upsertRow placed it as it came
      const listed = state.rows.get(c.number);
      if (!listed || Date.parse(c.updated_at) > Date.parse(listed.updated_at)) upsertRow(c);
    }
    updateCount();
  }

  function updateCount() {
    const n = state.rows.size;
    $('list-count').textContent = state.more ? '已显示 ' + n + ' 件，还有更多' : '共 ' + n + ' 件';
    $('list-empty').hidden = n > 0 || state.more;
    $('list-more').hidden = !state.more;
  }

  function caseRow(c) {
    const tr = el('tr', 'case-row');
    tr.dataset.number = c.number;
    if (c.overdue) tr.classList.add('overdue');
    const cell = (cls, label, content) => {
      const td = el('td', cls, content instanceof Node ? undefined : content);
      if (content instanceof Node) td.appendChild(content);
      td.dataset.label = label;
      tr.appendChild(td);
      return td;
    };
    cell('number', '编号', c.number);
    cell('state-cell', '状态', stateBadge(c));
    cell('category', '类别', c.category_name || '');
    cell('cell-text', '内容', c.text).title = c.text;
    cell('place', '网格', c.place);
    cell('assignee', '承办人', c.assignee_name || '—');
    cell('deadline', '时限', when(c.deadline) + (c.overdue ? ' 已超时' : ''));
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
  // A case below the last page loaded is left to the page that lists it
  // (加载更多), so that no case is listed twice.
  function upsertRow(c) {
    const body = $('case-list');
    const old = findRow(c.number);
    if (!matchesFilter(c)) {
      if (old) old.remove();
      state.rows.delete(c.number);
      updateCount();
      return;
    }
    if (!old && state.more && c.number < state.cursor) return;
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
    alerts.opened(number);
    if (state.openNumber !== number) {
      state.openNumber = number;
      state.openSeqs = new Set();
      $('case-timeline').replaceChildren();
      $('case-household').replaceChildren();
      $('case-error').textContent = '';
      $('case-notice').textContent = '';
      for (const id of ['reply-text', 'resolve-text', 'whistle-reason', 'return-reason', 'reclassify-reason', 'ask-change-reason', 'ask-change-until', 'decide-note', 'callback-note', 'instruct-text', 'table-reason', 'convene-help', 'convene-milestones', 'milestone-note', 'mediate-parties', 'mediate-mediators', 'mediate-outcome', 'mediation-note']) $(id).value = '';
      resetChange();
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
    if (r.data.text_simplified) $('case-text').textContent = r.data.case.text + '\n（简体：' + r.data.text_simplified + '）';
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
    showCaseMap(c);
    if (c.location) {
      loc.textContent = c.location.label || '已在地图上标出';
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
    $('publish-text').value = c.published || '';
    $('case-rating').textContent = c.rating ? c.rating + ' 分' : '—';
    const deps = (c.departments || []).map((d) => d.name + '（' + ({ called: '已吹哨', signed: '已领办', returned: '已退回' }[d.state] || d.state) + (d.lead ? '，牵头' : '') + '）');
    $('case-departments').textContent = deps.length ? deps.join('，') : '—';
    const warn = $('case-warning');
    warn.hidden = !c.warning;
    warn.textContent = c.warning === 'red' ? '红牌' : '黄牌';
    warn.className = 'warning warning-' + (c.warning || 'none');
    showTerm(c);
    showGridWork(c);
    showActions(c.actions || []);
    if (window.gridbotDesk) window.gridbotDesk.showCase(c);
  }

  // ---- the grid's own work (主动发现 …), console/gridwork.go ----

  // showGridWork shows what the grid's own work left on the case.
  function showGridWork(c) {
    const g = c.gridwork || {};
    $('case-origin').textContent = (g.origin_label || '群众反映') + (g.finder_name ? '（' + g.finder_name + '上报）' : '');
    if (g.household) {
      // From a linked household (二十户包联): its file, households.js.
      const a = el('a', '', '包联户·一户一档');
      a.href = '#/household/' + encodeURIComponent(g.household);
      a.id = 'case-household';
      $('case-origin').append(' ', a);
    }
    const cb = g.callback;
    $('case-callback').textContent = cb ? '待回访（' + cb.label + '），请于 ' + when(cb.due) + ' 前完成' : '—';
    $('callback-due').textContent = cb ? cb.label + '，期限 ' + when(cb.due) : '';
    const list = $('case-instructions');
    list.replaceChildren();
    for (const i of g.instructions || []) {
      const li = el('li');
      li.appendChild(el('span', 'at', when(i.at) + ' '));
      li.appendChild(el('strong', '', i.by_name + '：'));
      li.appendChild(el('span', 'body', i.text));
      list.appendChild(li);
    }
    $('case-instructions-none').hidden = list.children.length > 0;
    showMeeting(g.meeting);
    showMediation(g.mediation);
  }

  function showMediation(m) {
    const list = $('case-sessions');
    list.replaceChildren();
    if (!m) { $('case-mediation').textContent = '—'; return; }
    $('case-mediation').textContent = '当事人：' + m.parties + (m.result_label ? '；结果：' + m.result_label : '；调解中');
    for (const s of m.sessions) {
      const li = el('li');
      li.appendChild(el('span', 'at', when(s.at) + ' '));
      li.appendChild(el('strong', '', s.mediators + '：'));
      li.appendChild(el('span', 'body', s.outcome));
      list.appendChild(li);
    }
  }

  // showMeeting shows the case's place on the meeting list and what the
  // meeting decided, milestone by milestone.
  function showMeeting(m) {
    const ms = $('case-milestones');
    ms.replaceChildren();
    $('milestone-next').textContent = '';
    if (!m) { $('case-meeting').textContent = '—'; return; }
    $('case-meeting').textContent = m.decided
      ? '已会商，挂钩领导 ' + m.leader_name + '；帮办措施：' + m.help
      : '待会商（' + m.by_name + ' 提请：' + m.reason + '）';
    let next = null;
    m.milestones.forEach((x, i) => {
      const li = el('li', x.done ? 'done' : (x.overdue ? 'overdue' : ''));
      li.appendChild(el('span', '', '节点' + (i + 1) + '：' + x.text + '（' + when(x.due) + '）'));
      li.appendChild(el('span', 'at', x.done ? ' 已完成 ' + when(x.done_at) : (x.overdue ? ' 已逾期' : ' 未完成')));
      ms.appendChild(li);
      if (!x.done && !next) next = x;
    });
    if (next) $('milestone-next').textContent = '当前节点：' + next.text + '，' + when(next.due) + ' 前';
  }

  // meetingLeaders fills the linked leader's choices once, from the agenda.
  let meetingLeaders = null;
  async function fillLeaders() {
    if (meetingLeaders) return;
    const r = await api('GET', '/api/meeting');
    if (!r.ok) return;
    meetingLeaders = r.data.leaders;
    for (const l of meetingLeaders) $('convene-leader').appendChild(option(l.id, l.name));
  }

  async function loadAgenda() {
    const r = await api('GET', '/api/meeting');
    if (!r.ok) { $('meeting-error').textContent = r.data.error || '加载失败'; return; }
    $('meeting-error').textContent = '';
    const body = $('meeting-rows');
    body.replaceChildren();
    for (const c of r.data.cases) {
      const a = el('a', '', c.number);
      a.href = '#/case/' + encodeURIComponent(c.number);
      const m = c.meeting;
      const done = m.milestones.filter((x) => x.done).length;
      const status = m.decided ? '挂钩领导 ' + m.leader_name + '，节点 ' + done + '/' + m.milestones.length + (m.milestones.some((x) => x.overdue) ? '（有逾期）' : '') : '待会商';
      const tr = row([a, c.place, c.category_name, m.reason, status, when(m.at)], columns(body));
      tr.dataset.number = c.number;
      body.appendChild(tr);
    }
    $('meeting-empty').hidden = r.data.cases.length > 0;
  }

  // parseMilestones reads "2026-12-10 出方案" lines.
  function parseMilestones(text) {
    return text.split('\n').map((l) => l.trim()).filter((l) => l).map((l) => {
      const m = l.match(/^(\d{4}-\d{1,2}-\d{1,2})\s*[，,：:]?\s*(.*)$/);
      if (!m) return { text: l, due: '' };
      const [y, mo, d] = m[1].split('-');
      return { due: y + '-' + mo.padStart(2, '0') + '-' + d.padStart(2, '0'), text: m[2] };
    });
  }

  // gridWorkDetail says what the grid's own events did, for the timeline.
  function gridWorkDetail(ev) {
    const d = ev.data || {};
    switch (ev.kind) {
      case 'callback_due':
        return ({ rating: '居民评价不满意', not_done: '居民反映没解决', unrated: '居民未评价即结案' }[d.reason] || '') + (d.due ? '，期限 ' + when(d.due) : '');
      case 'called_back':
        return (d.reached === 'true' ? '已联系上，' + (d.satisfied === 'true' ? '满意' : '不满意') : '未联系上') + (d.on_time === 'false' ? '（超期完成）' : '');
    }
    return '';
  }

  function showCallbackReached() {
    $('callback-satisfied').hidden = $('callback-reached').value !== 'yes';
  }

  function wireGridWork() {
    $('mediate-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('mediate', { parties: $('mediate-parties').value, mediators: $('mediate-mediators').value, outcome: $('mediate-outcome').value },
        $('mediate-send'), [$('mediate-parties'), $('mediate-outcome')], '已记录调解');
    });
    $('mediation-ended-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('mediation_ended', { mediation_result: $('mediation-result').value, note: $('mediation-note').value },
        $('mediation-ended-send'), [$('mediation-note')], '已记录调解结果');
    });
    $('table-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('table', { reason: $('table-reason').value }, $('table-send'), [$('table-reason')], '已列入镇工作会商议程');
    });
    $('convene-form').addEventListener('focusin', fillLeaders);
    $('convene-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('convene', { leader: $('convene-leader').value, help: $('convene-help').value, milestones: parseMilestones($('convene-milestones').value) },
        $('convene-send'), [$('convene-help'), $('convene-milestones')], '已记录会商决定，挂钩领导和办理人将收到通知');
    });
    $('milestone-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('milestone', { note: $('milestone-note').value }, $('milestone-send'), [$('milestone-note')], '已标记完成');
    });
    $('instruct-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('instruct', { text: $('instruct-text').value }, $('instruct-send'), [$('instruct-text')], '已批示，办理人将收到推送');
    });
    $('callback-reached').addEventListener('change', showCallbackReached);
    $('callback-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const reached = $('callback-reached').value === 'yes';
      sendStep('callback', { reached: reached, satisfied: reached && $('callback-satisfied').value === 'yes', note: $('callback-note').value },
        $('callback-send'), [$('callback-note')], '已记录回访').then((ok) => {
        if (ok) { $('callback-reached').value = 'yes'; $('callback-satisfied').value = 'yes'; showCallbackReached(); }
      });
    });
  }

  // gridWorkColumns are the figures' columns: header, and the cell of a row.
  const gridWorkColumns = [
    ['单位', (x) => x.name],
    ['案件', (x) => x.cases],
    ['主动发现', (x) => x.found + '（' + x.found_rate + '）'],
    ['回访及时率', (x) => x.callback_rate + '（' + x.callbacks_on_time + '/' + x.callbacks_due + '）'],
    ['督办', (x) => x.supervised],
    ['化解率', (x) => x.settle_rate + '（' + x.settled + '/' + x.mediated + '）'],
  ];

  async function loadGridWork() {
    const p = new URLSearchParams({ by: $('gridwork-by').value });
    $('gridwork-csv').href = '/api/figures/gridwork.csv?' + p.toString();
    const r = await api('GET', '/api/figures/gridwork?' + p.toString());
    if (!r.ok) { $('figures-error').textContent = r.data.error || '加载失败'; return; }
    const head = el('tr');
    for (const [name] of gridWorkColumns) head.appendChild(el('th', '', name));
    $('gridwork-head').replaceChildren(head);
    const body = $('gridwork-rows');
    body.replaceChildren();
    for (const x of r.data.rows) body.appendChild(row(gridWorkColumns.map(([, cell]) => cell(x)), columns(body)));
  }

  // ---- 延期、挂起: extensions and pauses ----

  // changeText says a request for more time in a line: what, how long, by
  // whom and why.
  function changeText(p) {
    const what = p.kind === 'pause'
      ? '挂起' + (p.until && !p.until.startsWith('0001-') ? '至 ' + when(p.until) : '（手动恢复）')
      : '延期 ' + p.days + ' 个工作日';
    return what + (p.by_name ? '，' + p.by_name + '申请' : '') + '：' + p.reason;
  }

  // showTerm shows where the case's term stands — a request waiting, the
  // clock stopped, the extensions granted — and fills the decision form.
  function showTerm(c) {
    const parts = [];
    if (c.paused) parts.push('已挂起' + (c.resume_at ? '，' + when(c.resume_at) + ' 自动恢复' : '，待手动恢复'));
    if (c.pending) parts.push('待审批：' + changeText(c.pending));
    if (c.extensions) parts.push('已延期 ' + c.extensions + ' 次');
    $('case-term').textContent = parts.length ? parts.join('；') : '—';
    $('decide-pending').textContent = c.pending ? changeText(c.pending) : '';
  }

  // showChangeKind shows the days for an extension, the end date for a
  // pause.
  function showChangeKind() {
    const pause = $('ask-change-kind').value === 'pause';
    $('ask-change-days').hidden = pause;
    $('ask-change-until').hidden = !pause;
  }

  // resetChange puts the request form back to its start: an extension of
  // three working days, no reason.
  function resetChange() {
    $('ask-change-kind').value = 'extend';
    $('ask-change-days').value = '3';
    $('ask-change-reason').value = '';
    $('ask-change-until').value = '';
    showChangeKind();
  }

  function wireTerm() {
    $('ask-change-kind').addEventListener('change', showChangeKind);
    $('ask-change-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const kind = $('ask-change-kind').value;
      const body = { change: kind, reason: $('ask-change-reason').value };
      if (kind === 'extend') body.days = Number($('ask-change-days').value) || 0;
      else body.until = $('ask-change-until').value;
      sendStep('ask_change', body, $('ask-change-send'), [$('ask-change-reason'), $('ask-change-until')],
        '已提交' + (kind === 'pause' ? '挂起' : '延期') + '申请，等待审批').then((ok) => { if (ok) resetChange(); });
    });
    const decide = (approve, button) => {
      sendStep('decide', { approve: approve, note: $('decide-note').value }, button, [$('decide-note')],
        approve ? '已同意' : '已不同意，申请人将收到理由');
    };
    $('decide-form').addEventListener('submit', (e) => { e.preventDefault(); decide(true, $('decide-approve')); });
    $('decide-refuse').addEventListener('click', () => decide(false, $('decide-refuse')));
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
    $('case-state').className = 'state state-' + c.state;
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
      body.appendChild(row([a, c.relation, stateBadge(c), c.category_name || '', c.text, when(c.created_at)], columns(body)));
    }
    $('household-empty').hidden = list.length > 0;
  }

  const reasons = { by_hand: '手动转B岗', silent: 'A岗超时未受理', not_done: '居民反映未解决', rating: '居民评价不满意', town: '镇级决定重办', no_wechat: '未绑定微信或企业微信', gave_up: '多次重试失败' };

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
        return (d.to_name ? '送达 ' + d.to_name : '') + ({ template: '（模板消息）', wecom: '（企业微信）' }[d.channel] || '');
      case 'undeliverable':
        return (d.to_name ? '发给 ' + d.to_name : '') + (d.channel === 'wecom' ? '（企业微信）' : '') + (d.errcode && d.errcode !== '0' ? '，错误码 ' + d.errcode : '') + (d.reason ? '，' + (reasons[d.reason] || d.reason) : '');
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
      case 'change_asked':
      case 'change_refused':
        return d.change === 'pause' ? '挂起' + (d.until ? '至 ' + when(d.until) : '') : (d.days ? '延期 ' + d.days + ' 个工作日' : '');
      case 'extended':
        return (d.days ? '延期 ' + d.days + ' 个工作日，' : '') + (d.deadline ? '新时限 ' + when(d.deadline) : '');
      case 'paused':
        return d.until ? '至 ' + when(d.until) + ' 自动恢复' : '';
      case 'resumed':
        return d.deadline ? '新时限 ' + when(d.deadline) : '';
    }
    return gridWorkDetail(ev) || (window.gridbotDesk ? window.gridbotDesk.eventDetail(ev) : '');
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
      button.disabled = !live.connected;
    }
  }

  // ---- the town map ----
  //
  // The grids are drawn as SVG from the directory's boundaries, in Web
  // Mercator so that 天地图's tiles (when a key is configured) line up
  // under them. Nothing here needs the internet.

  const svgNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    const e = document.createElementNS(svgNS, tag);
    for (const k of Object.keys(attrs || {})) e.setAttribute(k, attrs[k]);
    return e;
  }

  // mercator projects a point to world pixels at zoom 0 (256 wide).
  function mercator(lat, lng) {
    const s = Math.sin(lat * Math.PI / 180);
    return [(lng + 180) / 360 * 256, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256];
  }

  // gridStatus is the colour class of a grid: the worst of its open cases.
  function gridStatus(g) {
    if (g.overdue > 0) return 'overdue';
    if (g.red > 0) return 'red';
    if (g.yellow > 0) return 'yellow';
    if (g.open > 0) return 'open';
    return 'none';
  }

  const mapState = { data: null, serial: 0, view: null };

  async function loadMap() {
    const serial = ++mapState.serial;
    const r = await api('GET', '/api/map');
    if (serial !== mapState.serial) return;
    $('map-error').textContent = r.ok ? '' : (r.data.error || '地图加载失败');
    if (!r.ok) return;
    mapState.data = r.data;
    drawMap($('town-map'), r.data, { view: mapState.view, pins: r.data.pins, onZoom: (v) => { mapState.view = v; } });
    const loose = $('map-unbounded');
    loose.replaceChildren();
    for (const g of r.data.grids.filter((x) => !x.boundary || x.boundary.length < 3)) {
      const a = el('a', 'chip status-' + gridStatus(g), g.place + '（在办 ' + g.open + '）');
      a.href = '#/grid/' + encodeURIComponent(g.id);
      a.dataset.grid = g.id;
      loose.appendChild(a);
    }
    $('map-unbounded-row').hidden = loose.children.length === 0;
    $('map-summary').textContent = r.data.grids.length + ' 个网格，在办 ' + r.data.grids.reduce((n, g) => n + g.open, 0) + ' 件';
  }

  // drawMap draws grids (and pins) into box. opts: view (a viewBox to
  // start from), pins, only (grid ids to frame), focus (a grid to stress),
  // onZoom, link (false: no clicks).
  function drawMap(box, data, opts) {
    box.replaceChildren();
    const grids = data.grids.filter((g) => g.boundary && g.boundary.length >= 3);
    const framed = opts.only ? grids.filter((g) => opts.only.includes(g.id)) : grids;
    const pts = [];
    for (const g of framed) for (const p of g.boundary) pts.push(mercator(p.lat, p.lng));
    for (const p of opts.pins || []) pts.push(mercator(p.lat, p.lng));
    if (pts.length === 0) { box.appendChild(el('p', 'muted', '目录中没有网格边界，无法绘制地图')); return; }
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of pts) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
    // An integer zoom at which the town is about 800 px across: the
    // tiles' own scale.
    const span = Math.max(x1 - x0, y1 - y0, 1e-6);
    const zoom = Math.max(1, Math.min(18, Math.floor(Math.log2(800 / span))));
    const k = Math.pow(2, zoom);
    const pad = Math.max(span * k * 0.06, 20);
    const full = [x0 * k - pad, y0 * k - pad, (x1 - x0) * k + 2 * pad, (y1 - y0) * k + 2 * pad];
    let view = opts.view || full;
    const root = svg('svg', { class: 'map', viewBox: view.join(' '), preserveAspectRatio: 'xMidYMid meet', role: 'img' });
    root.setAttribute('aria-label', '网格地图');
    const at = (p) => { const [x, y] = mercator(p.lat, p.lng); return [x * k, y * k]; };

    if (data.tiles && data.tiles.tianditu) {
      const tiles = svg('g', { class: 'tiles' });
      const tk = encodeURIComponent(data.tiles.tianditu);
      for (let tx = Math.floor(full[0] / 256); tx * 256 < full[0] + full[2]; tx++) {
        for (let ty = Math.floor(full[1] / 256); ty * 256 < full[1] + full[3]; ty++) {
          for (const layer of ['vec', 'cva']) {
            const url = 'https://t' + ((tx + ty) % 8) + '.tianditu.gov.cn/' + layer + '_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=' + layer +
              '&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX=' + zoom + '&TILEROW=' + ty + '&TILECOL=' + tx + '&tk=' + tk;
            tiles.appendChild(svg('image', { href: url, x: tx * 256, y: ty * 256, width: 256, height: 256 }));
          }
        }
      }
      root.appendChild(tiles);
      root.classList.add('with-tiles');
    }

    // Large grids first, so the micro grids inside them stay clickable.
    const order = (opts.only ? framed : grids).slice().sort((a, b) => (a.kind === 'micro') - (b.kind === 'micro'));
    const unit = view[2] / 36; // label size follows the frame
    const labels = svg('g', { class: 'labels' });
    for (const g of order) {
      const ring = g.boundary.map(at);
      const d = 'M' + ring.map(([x, y]) => x.toFixed(1) + ' ' + y.toFixed(1)).join('L') + 'Z';
      const status = gridStatus(g);
      const shape = svg('path', { d, class: 'grid status-' + status + ' kind-' + (g.kind || 'large') + (opts.focus === g.id ? ' focus' : '') });
      shape.dataset.grid = g.id;
      shape.dataset.status = status;
      const t = svg('title');
      t.textContent = g.place + '：在办 ' + g.open + '，黄牌 ' + g.yellow + '，红牌 ' + g.red + '，超期 ' + g.overdue;
      shape.appendChild(t);
      if (opts.link !== false) {
        shape.addEventListener('click', () => { location.hash = '#/grid/' + encodeURIComponent(g.id); });
      }
      root.appendChild(shape);
      const cx = ring.reduce((n, p) => n + p[0], 0) / ring.length;
      const cy = ring.reduce((n, p) => n + p[1], 0) / ring.length;
      const size = g.kind === 'micro' ? unit * 0.7 : unit;
      const name = svg('text', { x: cx.toFixed(1), y: (g.kind === 'micro' ? cy : cy - size * 0.6).toFixed(1), 'font-size': size.toFixed(1), class: 'grid-name' });
      name.dataset.grid = g.id;
      name.textContent = g.name + (g.open ? '（' + g.open + '）' : '');
      labels.appendChild(name);
    }
    root.appendChild(labels);

    // Pins, clustered: pins closer than a radius on screen become one
    // circle with a count; clicking it zooms in on them.
    const pinLayer = svg('g', { class: 'pins' });
    const radius = view[2] / 30;
    const clusters = [];
    for (const p of opts.pins || []) {
      const [x, y] = at(p);
      let c = clusters.find((c) => Math.hypot(c.x - x, c.y - y) < radius);
      if (!c) { c = { x, y, pins: [] }; clusters.push(c); }
      c.pins.push(p);
    }
    for (const c of clusters) {
      if (c.pins.length === 1) {
        const p = c.pins[0];
        const pinStatus = p.overdue ? 'overdue' : (p.warning || 'open');
        const dot = svg('circle', { cx: c.x.toFixed(1), cy: c.y.toFixed(1), r: (radius / 3).toFixed(1), class: 'pin status-' + pinStatus });
        dot.dataset.number = p.number;
        const t = svg('title');
        t.textContent = p.number + ' ' + p.category_name + ' ' + p.state_label + (p.overdue ? ' 已超时' : '');
        dot.appendChild(t);
        if (opts.link !== false) dot.addEventListener('click', (e) => { e.stopPropagation(); location.hash = '#/case/' + encodeURIComponent(p.number); });
        pinLayer.appendChild(dot);
        continue;
      }
      const g = svg('g', { class: 'cluster' });
      g.dataset.count = String(c.pins.length);
      g.appendChild(svg('circle', { cx: c.x.toFixed(1), cy: c.y.toFixed(1), r: (radius / 1.8).toFixed(1) }));
      const n = svg('text', { x: c.x.toFixed(1), y: c.y.toFixed(1), 'font-size': (radius / 1.8).toFixed(1) });
      n.textContent = String(c.pins.length);
      g.appendChild(n);
      g.addEventListener('click', (e) => {
        e.stopPropagation();
        const xs = c.pins.map((p) => at(p));
        const [a0, b0, a1, b1] = [Math.min(...xs.map((q) => q[0])), Math.min(...xs.map((q) => q[1])), Math.max(...xs.map((q) => q[0])), Math.max(...xs.map((q) => q[1]))];
        const w = Math.max(a1 - a0, b1 - b0, view[2] / 20) * 1.6;
        const next = [(a0 + a1) / 2 - w / 2, (b0 + b1) / 2 - w / 2, w, w];
        if (opts.onZoom) opts.onZoom(next);
        drawMap(box, data, Object.assign({}, opts, { view: next }));
      });
      pinLayer.appendChild(g);
    }
    root.appendChild(pinLayer);
    box.appendChild(root);
  }

  // showCaseMap draws the case's grid and, when its location is visible,
  // where it is.
  async function showCaseMap(c) {
    const box = $('case-map');
    if (!mapState.data) {
      const r = await api('GET', '/api/map');
      if (!r.ok) { box.replaceChildren(); return; }
      mapState.data = r.data;
    }
    if (state.openNumber !== c.number) return;
    const grid = mapState.data.grids.find((g) => g.id === c.grid);
    if (!grid || !grid.boundary || grid.boundary.length < 3) {
      box.replaceChildren(el('p', 'muted', '该网格没有边界数据'));
      return;
    }
    const pins = c.location ? [{ number: c.number, lat: c.location.lat, lng: c.location.lng, state_label: c.state_label, category_name: c.category_name || '', overdue: c.overdue, warning: c.warning }] : [];
    drawMap(box, mapState.data, { only: [c.grid], focus: c.grid, pins, link: false });
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
      const tr = row([b.kind === 'grid' ? '网格' : '部门', b.name, b.open, b.yellow, b.red, b.overdue, links], columns(body));
      tr.dataset.key = b.kind + ':' + b.key;
      body.appendChild(tr);
    }
    if (r.data.rows.length === 0) body.appendChild(row(['—', '暂无在办案件']));
  }

  function thisMonth() {
    const p = zoneParts(new Date());
    return p.year + '-' + p.month;
  }

  // ---- charts ----
  //
  // Apache ECharts, vendored (console/web/vendor), loaded the first time
  // the figures page opens. Tooltips are drawn on the canvas (richText),
  // so the page's style policy needs no inline styles.

  const chartLibrary = '/static/vendor/echarts-6.1.0/echarts.common.min.js';
  let chartsReady = null;
  function loadCharts() {
    if (!chartsReady) {
      chartsReady = new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = chartLibrary;
        s.onload = () => resolve(window.echarts);
        s.onerror = () => { chartsReady = null; reject(new Error('chart library')); };
        document.head.appendChild(s);
      });
    }
    return chartsReady;
  }

  const palette = { opened: '#1f6feb', closed: '#2e7d32', overdue: '#b3261e', response: '#1f6feb', resolution: '#2e7d32', satisfaction: '#f0a020', found: '#2e7d32', proxy: '#8e6cc0' };

  function chartOn(id) {
    const box = $(id);
    return window.echarts.getInstanceByDom(box) || window.echarts.init(box, null, { renderer: 'canvas' });
  }

  const chartBase = () => ({
    animation: false,
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
  });

  // rate turns "95.0%" or "—" into a number for the chart (null: no data).
  function rateValue(on, due) { return due > 0 ? Math.round(1000 * on / due) / 10 : null; }

  async function drawCharts(rates) {
    let echarts;
    try { echarts = await loadCharts(); } catch (e) { $('figures-error').textContent = '图表组件加载失败'; return; }
    if (state.view !== 'figures-view' || !echarts) return;
    const r = await api('GET', '/api/figures/charts');
    if (!r.ok) { $('figures-error').textContent = r.data.error || '图表加载失败'; return; }
    const months = r.data.trend.map((p) => p.month);
    chartOn('chart-trend').setOption(Object.assign(chartBase(), {
      xAxis: { type: 'category', data: months },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: '新增', type: 'line', data: r.data.trend.map((p) => p.opened), color: palette.opened },
        { name: '销号', type: 'line', data: r.data.trend.map((p) => p.closed), color: palette.closed },
        { name: '超期', type: 'bar', data: r.data.trend.map((p) => p.overdue), color: palette.overdue },
      ],
    }), true);
    const origins = r.data.origins || [];
    chartOn('chart-origins').setOption(Object.assign(chartBase(), {
      xAxis: { type: 'category', data: origins.map((p) => p.month) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: '主动发现', type: 'bar', stack: 'origin', data: origins.map((p) => p.found), color: palette.found },
        { name: '群众上报', type: 'bar', stack: 'origin', data: origins.map((p) => p.resident), color: palette.opened },
        { name: '代录', type: 'bar', stack: 'origin', data: origins.map((p) => p.proxy), color: palette.proxy },
      ],
    }), true);
    const cats = r.data.categories.slice().reverse(); // the biggest on top
    chartOn('chart-categories').setOption(Object.assign(chartBase(), {
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: cats.map((c) => c.name) },
      series: [
        { name: '全部', type: 'bar', data: cats.map((c) => c.cases), color: palette.opened },
        { name: '在办', type: 'bar', data: cats.map((c) => c.open), color: palette.overdue },
      ],
    }), true);
    if (rates) {
      const units = rates.filter((x) => x.key !== 'total');
      $('chart-rates-title').textContent = '三率（' + $('rates-by').selectedOptions[0].textContent + '）';
      chartOn('chart-rates').setOption(Object.assign(chartBase(), {
        xAxis: { type: 'category', data: units.map((x) => x.name), axisLabel: { interval: 0, rotate: units.length > 6 ? 30 : 0 } },
        yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
        series: [
          { name: '响应率', type: 'bar', data: units.map((x) => rateValue(x.response_on_time, x.response_due)), color: palette.response },
          { name: '办结率', type: 'bar', data: units.map((x) => rateValue(x.resolution_on_time, x.resolution_due)), color: palette.resolution },
          { name: '满意率', type: 'bar', data: units.map((x) => rateValue(x.satisfied, x.rated)), color: palette.satisfaction },
        ],
      }), true);
    }
    for (const id of ['chart-trend', 'chart-origins', 'chart-categories', 'chart-rates']) chartOn(id).resize();
  }

  window.addEventListener('resize', () => {
    if (!window.echarts) return;
    for (const id of ['chart-trend', 'chart-origins', 'chart-categories', 'chart-rates']) {
      const c = window.echarts.getInstanceByDom($(id));
      if (c) c.resize();
    }
  });

  async function loadFigures() {
    if (!$('ledger-month').value) $('ledger-month').value = thisMonth();
    const rp = new URLSearchParams({ by: $('rates-by').value });
    const lp = new URLSearchParams({ by: $('ledger-by').value, month: $('ledger-month').value });
    $('rates-csv').href = '/api/figures/rates.csv?' + rp.toString();
    $('ledger-csv').href = '/api/figures/ledger.csv?' + lp.toString();
    $('figures-xlsx').href = '/api/figures.xlsx?' + new URLSearchParams({ month: $('ledger-month').value }).toString();
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
          x.satisfaction_rate + '（' + x.satisfied + '/' + x.rated + '）'], columns(body)));
      }
    }
    if (ledger.ok) {
      const body = $('ledger-rows');
      body.replaceChildren();
      for (const x of ledger.data.rows) {
        const tr = row([x.name, x.opened, x.closed, x.open, x.overdue, x.reopened], columns(body));
        tr.dataset.key = x.key;
        body.appendChild(tr);
      }
    }
    await drawCharts(rates.ok ? rates.data.rows : null);
    await loadGridWork();
    const guess = await api('GET', '/api/figures/guess');
    if (guess.ok) {
      const body = $('guess-rows');
      body.replaceChildren();
      for (const m of guess.data.months) body.appendChild(row([m.month, m.guessed, m.corrected, m.right_rate], columns(body)));
      if (guess.data.months.length === 0) body.appendChild(row(['—', '暂无按猜测类别提交的案件']));
    }
  }

  // ---- staff administration (town) ----
  //
  // The list is searched and paged on the page (a town has hundreds of
  // staff, not millions). Every step answers next to the row it was taken
  // on; a new password is typed into the row, never into a prompt().

  const staffAdmin = { all: [], page: 0, notes: new Map(), editing: '' };
  const staffPageSize = 20;

  async function loadStaff() {
    api('GET', '/api/binding').then((b) => {
      if (!b.ok) return;
      const d = b.data;
      $('binding-watch').textContent = '微信绑定：近' + d.window_minutes + '分钟内尝试 ' + d.tries + ' 次，其中绑定码错误 ' + d.wrong + ' 次' +
        (d.locked ? '；尝试过多，绑定已暂停，窗口结束后恢复' : '（上限 ' + d.budget + ' 次）');
    });
    const r = await api('GET', '/api/staff');
    if (!r.ok) { $('staff-error').textContent = r.data.error || '加载失败'; return; }
    $('staff-error').textContent = '';
    staffAdmin.all = r.data.staff;
    const ch = await api('GET', '/api/staff/channels');
    staffAdmin.channels = ch.ok ? ch.data.staff : {};
    const leaders = $('post-staff');
    const chosen = leaders.value;
    leaders.replaceChildren();
    for (const s of r.data.staff) {
      if (s.role === 'grid' && !s.disabled) leaders.appendChild(option(s.id, s.name + '（' + s.id + '）'));
    }
    if (chosen) leaders.value = chosen;
    drawStaff();
  }

  function staffBelongs(s) {
    const villageName = (id) => { const v = state.dir.villages.find((x) => x.id === id); return v ? v.name : ''; };
    const deptName = (id) => { const d = state.dir.departments.find((x) => x.id === id); return d ? d.name : ''; };
    return s.village ? villageName(s.village) : (s.department ? deptName(s.department) : '—');
  }

  function drawStaff() {
    const q = $('staff-search').value.trim().toLowerCase();
    const found = staffAdmin.all.filter((s) => !q || [s.id, s.name, s.role_label, staffBelongs(s), (s.post_names || []).join(' ')]
      .some((x) => String(x || '').toLowerCase().includes(q)));
    const pages = Math.max(1, Math.ceil(found.length / staffPageSize));
    staffAdmin.page = Math.min(staffAdmin.page, pages - 1);
    const shown = found.slice(staffAdmin.page * staffPageSize, (staffAdmin.page + 1) * staffPageSize);
    $('staff-count').textContent = '共 ' + found.length + ' 人';
    $('staff-page').textContent = '第 ' + (staffAdmin.page + 1) + ' / ' + pages + ' 页';
    $('staff-prev').disabled = staffAdmin.page === 0;
    $('staff-next').disabled = staffAdmin.page >= pages - 1;
    const body = $('staff-rows');
    body.replaceChildren();
    const labels = columns(body);
    for (const s of shown) {
      const ops = el('span', 'ops');
      const btn = (text, cls, fn) => {
        const b = el('button', cls, text);
        b.type = 'button';
        b.disabled = !live.connected;
        b.addEventListener('click', fn);
        ops.appendChild(b);
        return b;
      };
      btn(s.disabled ? '启用' : '停用', 'secondary', () => staffStep(s, '/disable', { disabled: !s.disabled }, s.disabled ? '已启用' : '已停用'));
      btn('重置密码', 'secondary', () => { staffAdmin.editing = staffAdmin.editing === s.id ? '' : s.id; drawStaff(); });
      btn('微信绑定码', 'secondary', async () => {
        const x = await api('POST', '/api/staff/' + encodeURIComponent(s.id) + '/bind-code', {});
        if (!x.ok) { note(s.id, x.data.error || '操作失败', false); return; }
        note(s.id, '绑定码 ' + x.data.code + '：请 ' + s.name + ' 在 ' + x.data.expires_minutes + ' 分钟内向公众号发送“绑定 ' + x.data.code + '”', true);
      });
      const chs = (staffAdmin.channels || {})[s.id];
      if (chs && chs.channels.filter((c) => c.bound).length > 1) {
        // Both channels bound: the button moves the member's notices to
        // the other one first.
        const other = chs.first === 'wecom' ? 'wechat' : 'wecom', name = (c) => c === 'wecom' ? '企业微信' : '微信';
        btn('通知先发' + name(chs.first), 'secondary', async () => {
          const x = await api('POST', '/api/staff/' + encodeURIComponent(s.id) + '/channel', { channel: other });
          if (!x.ok) { note(s.id, x.data.error || '操作失败', false); return; }
          staffAdmin.channels[s.id] = x.data;
          note(s.id, s.name + ' 的通知改为先发' + name(other) + '，发不出时改发' + name(chs.first), true);
        }).title = '点击改为先发' + name(other);
      }
      const tr = row([s.id, s.name, s.role_label, staffBelongs(s), (s.post_names || []).join('，') || '—',
        s.disabled ? '已停用' : (s.has_password ? '正常' : '未设密码'), ops], labels);
      tr.dataset.id = s.id;
      body.appendChild(tr);
      if (staffAdmin.editing === s.id) body.appendChild(passwordRow(s));
      const n = staffAdmin.notes.get(s.id);
      if (n) {
        const line = el('tr', 'row-msg');
        line.dataset.for = s.id;
        const td = el('td');
        td.colSpan = 7;
        td.appendChild(el('span', 'row-note ' + (n.ok ? 'ok' : 'bad'), n.text));
        line.appendChild(td);
        body.appendChild(line);
      }
    }
    if (shown.length === 0) body.appendChild(row(['没有找到符合条件的人员']));
  }

  // passwordRow is the form to set a staff member's password, in the list.
  function passwordRow(s) {
    const line = el('tr', 'row-msg password-row');
    line.dataset.for = s.id;
    const td = el('td');
    td.colSpan = 7;
    const form = el('form', 'inline');
    const input = el('input');
    input.type = 'password';
    input.autocomplete = 'new-password';
    input.placeholder = '为 ' + s.name + ' 设置新密码（至少8位）';
    input.minLength = 8;
    input.required = true;
    const save = el('button', '', '保存密码');
    save.type = 'submit';
    save.disabled = !live.connected;
    const cancel = el('button', 'secondary', '取消');
    cancel.type = 'button';
    cancel.addEventListener('click', () => { staffAdmin.editing = ''; drawStaff(); });
    form.append(input, save, cancel);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      save.disabled = true;
      const ok = await staffStep(s, '/password', { password: input.value }, '密码已重置');
      if (ok) staffAdmin.editing = '';
      else save.disabled = false;
      drawStaff();
    });
    td.appendChild(form);
    line.appendChild(td);
    setTimeout(() => input.focus(), 0);
    return line;
  }

  // note shows the answer to a step next to the staff member's row.
  function note(id, text, ok) {
    staffAdmin.notes.clear();
    staffAdmin.notes.set(id, { text, ok });
    drawStaff();
  }

  async function staffStep(s, path, body, done) {
    const r = await api('POST', '/api/staff/' + encodeURIComponent(s.id) + path, body);
    if (!r.ok) { note(s.id, r.data.error || '操作失败', false); return false; }
    staffAdmin.notes.clear();
    staffAdmin.notes.set(s.id, { text: s.name + '：' + done, ok: true });
    await loadStaff();
    return true;
  }

  // ---- new-case alerts ----
  //
  // A sound, a count in the tab's title and a desktop notification, each
  // switched on or off in the header's 新案提醒 panel and remembered by this
  // browser. A new case is one filed in what the staff member sees (for a
  // department, one whistled to it). The count is of new cases not yet
  // looked at: opening one, or the queue, clears it.

  const alerts = {
    key: 'gridbot.alerts',
    prefs: { sound: true, title: true, desktop: false },
    unseen: new Set(),
    audio: null,

    load() {
      try { Object.assign(this.prefs, JSON.parse(localStorage.getItem(this.key) || '{}')); } catch (e) { /* keep the defaults */ }
      $('alert-sound').checked = !!this.prefs.sound;
      $('alert-title').checked = !!this.prefs.title;
      $('alert-desktop').checked = !!this.prefs.desktop && this.permitted();
      this.explain();
    },
    save() {
      try { localStorage.setItem(this.key, JSON.stringify(this.prefs)); } catch (e) { /* private mode: this page only */ }
    },
    permitted() { return 'Notification' in window && Notification.permission === 'granted'; },
    explain() {
      let t = '';
      if (!('Notification' in window)) t = '此浏览器不支持桌面通知';
      else if (Notification.permission === 'denied') t = '浏览器已禁止本站通知，请在浏览器设置中允许';
      $('alert-desktop-note').textContent = t;
    },
    wire() {
      this.load();
      $('alerts-toggle').addEventListener('click', () => {
        const p = $('alerts-panel');
        p.hidden = !p.hidden;
        $('alerts-toggle').setAttribute('aria-expanded', String(!p.hidden));
      });
      $('alert-sound').addEventListener('change', (e) => { this.prefs.sound = e.target.checked; this.save(); if (e.target.checked) this.beep(); });
      $('alert-title').addEventListener('change', (e) => { this.prefs.title = e.target.checked; this.save(); this.showTitle(); });
      $('alert-desktop').addEventListener('change', async (e) => {
        if (e.target.checked && 'Notification' in window && Notification.permission === 'default') {
          try { await Notification.requestPermission(); } catch (err) { /* treated as refused */ }
        }
        this.prefs.desktop = e.target.checked && this.permitted();
        e.target.checked = this.prefs.desktop;
        this.save();
        this.explain();
      });
    },
    // isNew tells whether a live event brings a new case to this desk.
    isNew(item) {
      const kind = item.event && item.event.kind;
      if (state.me && state.me.role === 'department') return kind === 'whistled';
      return kind === 'submitted';
    },
    newCase(c) {
      if (this.unseen.has(c.number)) return;
      this.unseen.add(c.number);
      this.showTitle();
      if (this.prefs.sound) this.beep();
      if (this.prefs.desktop && this.permitted()) {
        try {
          const n = new Notification('新案件 ' + c.number, { body: (c.category_name || '') + ' · ' + (c.place || '') + '\n' + (c.text || '').slice(0, 80), tag: 'case-' + c.number });
          n.onclick = () => { window.focus(); location.hash = '#/case/' + encodeURIComponent(c.number); n.close(); };
        } catch (e) { /* some browsers allow notifications from a service worker only */ }
      }
    },
    opened(number) { if (this.unseen.delete(number)) this.showTitle(); },
    seen() { if (this.unseen.size) { this.unseen.clear(); this.showTitle(); } },
    showTitle() {
      const base = (state.product || '网格通') + ' · 工作台';
      document.title = this.prefs.title && this.unseen.size ? '(' + this.unseen.size + ') ' + base : base;
    },
    // beep plays two short tones; no sound file to fetch.
    beep() {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return;
      try {
        if (!this.audio) this.audio = new AC();
        const ctx = this.audio;
        if (ctx.state === 'suspended' && ctx.resume) ctx.resume();
        [[880, 0], [660, 0.18]].forEach(([freq, at]) => {
          const osc = ctx.createOscillator();
          const gain = ctx.createGain();
          osc.frequency.value = freq;
          gain.gain.value = 0.15;
          osc.connect(gain);
          gain.connect(ctx.destination);
          osc.start(ctx.currentTime + at);
          osc.stop(ctx.currentTime + at + 0.15);
        });
      } catch (e) { /* no audio device */ }
    },
  };

  // ---- live updates ----

  // setConn shows the connection's state. While the page is not connected
  // it takes no step: what it shows may be stale, and a step could act on
  // a case that changed meanwhile.
  function setConn(kind, text) {
    const s = $('conn-state');
    s.className = 'conn conn-' + kind;
    s.textContent = text;
    live.connected = kind === 'on';
    document.body.classList.toggle('offline', !live.connected && live.wanted);
    $('offline-banner').hidden = live.connected || !live.wanted || kind !== 'off';
    for (const b of document.querySelectorAll('#case-view .actions button, #staff-view button:not(.pager button)')) {
      b.disabled = !live.connected;
    }
    if (live.connected && state.view === 'staff-view') drawStaff();
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
      let changed = false;
      for (const item of items) {
        if (typeof item.seq !== 'number') continue;
        if (live.lastSeq !== null && item.seq <= live.lastSeq) continue; // seen already
        live.lastSeq = item.seq;
        if (item.type !== 'event') continue;
        // A push delivered changes no count.
        if (!['delivered', 'undeliverable', 'media_saved'].includes(item.event.kind)) changed = true;
        if (alerts.isNew(item)) alerts.newCase(item.case);
        state.liveDuringLoad.set(item.case.number, item.case);
        if (state.liveDuringMore) state.liveDuringMore.set(item.case.number, item.case);
        upsertRow(item.case);
        if (item.case.number === state.openNumber) {
          showCaseState(item.case);
          addEvent(item.event);
          // The case's own page refreshes its actions and details.
          if (['reopened', 'resolved', 'closed', 'whistled', 'signed', 'returned', 'transferred', 'reclassified', 'accepted', 'rated', 'assigned', 'change_asked', 'change_refused', 'extended', 'paused', 'resumed', 'callback_due', 'called_back', 'instructed', 'tabled', 'convened', 'milestone_done', 'milestone_warned', 'milestone_overdue', 'mediated', 'mediation_ended'].includes(item.event.kind)) {
            reopen = true;
          }
        }
      }
      if (reopen) openCase(state.openNumber);
      if (changed) { refreshFigures(); window.gridbotHouseholds.refresh(); }
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

  // refreshFigures reloads the page on view when it counts cases (map,
  // board, figures), at most once a second for the map and the board and
  // every three seconds for the figures (the heaviest to compute, over the
  // whole history), however many events come: the counts are the
  // server's, so the page asks again rather than guess.
  const refresh = { timer: 0, running: false, again: false };
  function refreshFigures() {
    if (!['map-view', 'board-view', 'figures-view'].includes(state.view)) return;
    if (refresh.timer) return;
    refresh.timer = setTimeout(async () => {
      refresh.timer = 0;
      if (refresh.running) { refresh.again = true; return; }
      refresh.running = true;
      try {
        if (state.view === 'map-view') await loadMap();
        else if (state.view === 'board-view') await loadBoard();
        else if (state.view === 'figures-view') await loadFigures();
      } finally {
        refresh.running = false;
        if (refresh.again) { refresh.again = false; refreshFigures(); }
      }
    }, state.view === 'figures-view' ? 3000 : 1000);
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
        const username = $('login-user').value.trim(), password = $('login-pass').value;
        const r = await api('POST', '/api/login', { username, password });
        if (!r.ok) {
          $('login-error').textContent = r.data.error || '登录失败';
          return;
        }
        $('login-pass').value = '';
        // An expired password is changed first, then a second factor
        // (admin.js): the code step, then the workbench.
        let answer = r.data;
        if (answer.change_password) answer = await window.gridbotAdmin.expiredPassword(answer, username, password);
        if (!answer) return;
        const staff = answer.second_factor ? await window.gridbotAdmin.secondFactor(answer) : answer;
        if (staff) {
          // Told when this login ended the person's sessions elsewhere.
          $('session-banner').textContent = staff.notice || '';
          $('session-banner').hidden = !staff.notice;
          await showMain(staff.staff);
        }
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
    $('list-more').addEventListener('click', loadMore);
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
    $('publish-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('publish', { text: $('publish-text').value }, $('publish-send'), [], $('publish-text').value.trim() ? '已公开' : '已撤回公开');
    });
    wireTerm();
    wireGridWork();
    const done = { accept: '已受理', transfer: '已转B岗', sign: '已领办', reopen: '已重新办理', resume: '已恢复计时' };
    for (const name of Object.keys(done)) {
      const b = $('act-' + name);
      b.addEventListener('click', () => {
        if (name === 'reopen' && !window.confirm('确定重新办理此案件？')) return;
        sendStep(name, {}, b, [], done[name]);
      });
    }
    $('map-reset').addEventListener('click', () => { mapState.view = null; loadMap(); });
    $('rates-by').addEventListener('change', loadFigures);
    $('gridwork-by').addEventListener('change', loadGridWork);
    $('ledger-by').addEventListener('change', loadFigures);
    $('ledger-month').addEventListener('change', loadFigures);
    $('staff-add-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const id = $('add-id').value.trim();
      $('staff-notice').textContent = '';
      $('staff-notice').className = 'notice';
      $('add-submit').disabled = true;
      try {
        const r = await api('POST', '/api/staff', {
          id, name: $('add-name').value.trim(), role: $('add-role').value,
          village: $('add-village').value, department: $('add-department').value, password: $('add-password').value,
        });
        if (!r.ok) { $('staff-notice').className = 'error'; $('staff-notice').textContent = r.data.error || '新增失败'; return; }
        for (const x of ['add-id', 'add-name', 'add-password']) $(x).value = '';
        $('staff-notice').textContent = '已新增 ' + r.data.staff.name + '（' + r.data.staff.id + '）';
        // Show the new row, with its note, wherever it falls.
        $('staff-search').value = r.data.staff.id;
        staffAdmin.page = 0;
        staffAdmin.notes.clear();
        staffAdmin.notes.set(r.data.staff.id, { text: '已新增', ok: true });
        await loadStaff();
      } finally {
        $('add-submit').disabled = !live.connected;
      }
    });
    $('post-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      $('post-notice').className = 'notice';
      const r = await api('POST', '/api/grids/' + encodeURIComponent($('post-grid').value) + '/post', { post: $('post-post').value, staff: $('post-staff').value });
      if (!r.ok) { $('post-notice').className = 'error'; $('post-notice').textContent = r.data.error || '设置失败'; return; }
      $('post-notice').textContent = $('post-grid').selectedOptions[0].textContent + ' 的' + $('post-post').value + '岗已设为 ' + $('post-staff').selectedOptions[0].textContent;
      await loadStaff();
    });
    $('staff-search').addEventListener('input', () => { staffAdmin.page = 0; drawStaff(); });
    $('staff-prev').addEventListener('click', () => { staffAdmin.page--; drawStaff(); });
    $('staff-next').addEventListener('click', () => { staffAdmin.page++; drawStaff(); });
    alerts.wire();
    wirePassword();
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
    if (r.data.town) $('town-name').textContent = r.data.town;
  }

  async function start() {
    wire();
    // The desk's tools (desk.js) use the same calls as the rest of the page.
    if (window.gridbotDesk) window.gridbotDesk.wire({ api, sendStep, openCase, loadList, loadStaff, state, live });
    window.gridbotAdmin.wire({ api });
    window.gridbotHouseholds.wire({ api, when });
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
