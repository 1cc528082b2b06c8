// gridbot staff console. Plain JavaScript, no build step.
//
// Every piece of text that comes from the server (residents' words above all)
// is put on the page with textContent or createTextNode, never as HTML.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  const state = {
    me: null,
    rows: new Map(), // number → list view of the case
    openNumber: '',
    openSeqs: new Set(),
    listSerial: 0,
    caseSerial: 0,
    // Cases that live events changed while a list request was under way;
    // they are put back over the (possibly older) answer.
    liveDuringLoad: new Map(),
  };

  const live = {
    ws: null,
    wanted: false,
    backoff: 1000,
    timer: 0,
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

  function show(view) {
    for (const id of ['login-view', 'list-view', 'case-view']) {
      $(id).hidden = id !== view;
    }
  }

  function showLogin() {
    state.me = null;
    stopLive();
    $('me-name').textContent = '';
    $('logout').hidden = true;
    show('login-view');
    $('login-user').focus();
  }

  function showMain(me) {
    state.me = me;
    $('me-name').textContent = me.name + '（' + me.role_label + '）';
    $('logout').hidden = false;
    route();
    loadList();
    startLive();
  }

  function route() {
    if (!state.me) return;
    const m = location.hash.match(/^#\/case\/(.+)$/);
    if (m) {
      openCase(decodeURIComponent(m[1]));
    } else {
      state.openNumber = '';
      show('list-view');
    }
  }

  // ---- formatting ----

  function when(iso) {
    if (!iso || iso.startsWith('0001-')) return '—';
    const d = new Date(iso);
    if (isNaN(d)) return '—';
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes());
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // ---- the list ----

  function filterState() { return $('filter-state').value; }
  function filterQuery() { return $('search').value.trim(); }

  const openStates = new Set(['submitted', 'assigned', 'in_progress', 'reopened']);

  function matchesFilter(c) {
    const s = filterState();
    if (s === 'open' && !openStates.has(c.state)) return false;
    if (s !== 'open' && s !== '' && c.state !== s) return false;
    const q = filterQuery();
    if (q && !c.number.toUpperCase().includes(q.toUpperCase()) && !c.text.includes(q)) return false;
    return true;
  }

  async function loadList() {
    const serial = ++state.listSerial;
    state.liveDuringLoad = new Map();
    const params = new URLSearchParams();
    params.set('state', filterState());
    const q = filterQuery();
    if (q) params.set('q', q);
    const r = await api('GET', '/api/cases?' + params.toString());
    if (serial !== state.listSerial) return; // a newer request is on its way
    if (!r.ok) {
      $('list-error').textContent = r.data.error || '列表加载失败';
      return;
    }
    $('list-error').textContent = '';
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
      $('case-error').textContent = '';
      $('case-notice').textContent = '';
      $('reply-text').value = '';
      $('resolve-text').value = '';
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

    const photos = $('case-photos');
    photos.replaceChildren();
    if (!c.photos || c.photos.length === 0) {
      photos.textContent = '无';
    }
    (c.photos || []).forEach((p, i) => {
      const item = el('span', 'photo');
      if (p.url && /^https?:\/\//i.test(p.url)) {
        const a = el('a', '', '照片 ' + (i + 1));
        a.href = p.url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        item.appendChild(a);
      } else {
        item.textContent = '照片 ' + (i + 1) + '（素材 ' + p.media_id + '）';
      }
      photos.appendChild(item);
      photos.appendChild(document.createTextNode(' '));
    });

    $('case-phone').textContent = (c.phone || '未留') + (c.phone && !c.phone_visible ? '（仅承办人可见完整号码）' : '');
    $('case-result').textContent = c.result || '—';
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

  function eventDetail(ev) {
    const d = ev.data || {};
    switch (ev.kind) {
      case 'assigned':
        return d.assignee_name ? '派给 ' + d.assignee_name + (d.post ? '（' + d.post + '岗）' : '') : '';
      case 'rated':
        return d.rating ? '评分 ' + d.rating + ' 分' : '';
      case 'delivered':
        return d.to_name ? '送达 ' + d.to_name : '';
      case 'undeliverable':
        return (d.to_name ? '发给 ' + d.to_name : '') + (d.errcode ? '，错误码 ' + d.errcode : '');
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

  async function sendStep(path, body, button, box, done) {
    const number = state.openNumber;
    $('case-error').textContent = '';
    $('case-notice').textContent = '';
    button.disabled = true;
    try {
      const r = await api('POST', '/api/cases/' + encodeURIComponent(number) + path, body);
      if (number !== state.openNumber) return;
      if (!r.ok) {
        $('case-error').textContent = r.data.error || '操作失败';
        return;
      }
      box.value = '';
      showCase(r.data.case);
      for (const ev of r.data.events) addEvent(ev);
      $('case-notice').textContent = done;
    } finally {
      button.disabled = false;
    }
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
    connect();
  }

  function stopLive() {
    live.wanted = false;
    clearTimeout(live.timer);
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
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws';
    const ws = new WebSocket(url);
    live.ws = ws;
    ws.onopen = () => {
      if (live.ws !== ws) return;
      live.backoff = 1000;
      setConn('on', '已连接');
      // Catch up on whatever happened while the feed was down.
      loadList();
      if (state.openNumber) openCase(state.openNumber);
    };
    ws.onmessage = (m) => {
      if (live.ws !== ws) return;
      let msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (msg.type !== 'event') return;
      state.liveDuringLoad.set(msg.case.number, msg.case);
      upsertRow(msg.case);
      if (msg.case.number === state.openNumber) {
        showCaseState(msg.case);
        addEvent(msg.event);
      }
    };
    ws.onclose = () => {
      if (live.ws !== ws) return;
      live.ws = null;
      if (!live.wanted) return;
      setConn('off', '已断开，正在重连');
      const wait = live.backoff * (0.75 + Math.random() / 2);
      live.backoff = Math.min(live.backoff * 2, 30000);
      live.timer = setTimeout(reconnect, wait);
    };
  }

  async function reconnect() {
    if (!live.wanted) return;
    // A handshake refused for an expired login looks like any other close;
    // asking who we are tells them apart (a 401 shows the login form).
    const r = await api('GET', '/api/me');
    if (r.status === 401 || !live.wanted) return;
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
        showMain(r.data.staff);
      } finally {
        $('login-submit').disabled = false;
      }
    });
    $('logout').addEventListener('click', async () => {
      await api('POST', '/api/logout');
      showLogin();
    });
    $('filter-state').addEventListener('change', loadList);
    let searchTimer = 0;
    $('search').addEventListener('input', () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(loadList, 300);
    });
    $('reply-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('/reply', { text: $('reply-text').value }, $('reply-send'), $('reply-text'), '回复已记录，将送达居民');
    });
    $('resolve-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sendStep('/resolve', { result: $('resolve-text').value }, $('resolve-send'), $('resolve-text'), '已办结，等待居民评价');
    });
    window.addEventListener('hashchange', route);
  }

  async function start() {
    wire();
    const r = await api('GET', '/api/me');
    if (r.ok) {
      showMain(r.data.staff);
    } else if (r.status !== 401) {
      showLogin();
      $('login-error').textContent = r.data.error || '服务器暂时不可用';
    }
  }

  start();
})();
