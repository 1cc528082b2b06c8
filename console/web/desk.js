// gridbot staff console: the desk's tools (issue 18) — 代录, internal
// notes, 催办, 加急 and 合并. app.js hands over its calls (wire) and tells
// this file when someone logs in and when a case is shown. As in app.js,
// text from the server goes on the page with textContent only.
'use strict';

window.gridbotDesk = (function () {
  const $ = (id) => document.getElementById(id);
  let h = null; // app.js's calls: api, sendStep, openCase, loadList, state, live
  let shown = null; // the case last shown, for the work order
  let me = null;

  function option(value, text) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    return o;
  }

  // A fresh key per filing: a double click or a retry files one case.
  function newKey() {
    const a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  let fileKey = '';

  function loggedIn(who, dir) {
    me = who;
    const panel = $('file-panel');
    panel.hidden = me.role === 'department' || !dir;
    if (panel.hidden) return;
    const fill = (id, items, value, text) => {
      const s = $(id);
      s.replaceChildren(option('', '请选择'));
      for (const it of items) s.appendChild(option(value(it), text(it)));
    };
    fill('file-category', dir.categories, (c) => c.code, (c) => c.name);
    fill('file-grid', dir.grids, (g) => g.id, (g) => g.place);
    if (dir.grids.length === 1) $('file-grid').value = dir.grids[0].id;
  }

  function showCase(c) {
    shown = c;
    $('case-channel').textContent = (c.channel_label || '微信') + (c.contact ? '，居民 ' + c.contact : '');
    const marks = [];
    if (c.urgent) marks.push('已加急');
    if (c.urges) marks.push('催办 ' + c.urges + ' 次');
    if (c.merged_into) marks.push('已合并到 ' + c.merged_into);
    const dd = $('case-desk-marks');
    dd.replaceChildren();
    if (marks.length === 0) dd.textContent = '—';
    else dd.textContent = marks.join('，');
    if (c.merged_into) {
      const a = document.createElement('a');
      a.href = '#/case/' + encodeURIComponent(c.merged_into);
      a.textContent = ' 查看';
      dd.appendChild(a);
    }
    $('case-view').classList.toggle('is-urgent', !!c.urgent);
  }

  function eventDetail(ev) {
    const d = ev.data || {};
    switch (ev.kind) {
      case 'noted':
        return '仅工作人员可见';
      case 'urged':
        return d.count ? '第 ' + d.count + ' 次' : '';
      case 'merged':
        return d.into ? '并入 ' + d.into : '';
      case 'merged_in':
        return d.from ? d.from + ' 并入本事项' : '';
      case 'resolved':
        return d.media_id ? '附办结现场照片' : '';
      case 'submitted':
        return d.via ? ({ phone: '电话代录', walk_in: '来访代录' }[d.via] || '') : '';
    }
    return '';
  }

  async function fileFor(e) {
    e.preventDefault();
    const button = $('file-send');
    $('file-error').textContent = '';
    $('file-notice').textContent = '';
    if (!fileKey) fileKey = newKey();
    button.disabled = true;
    try {
      const filing = {
        channel: $('file-channel').value, category: $('file-category').value, grid: $('file-grid').value,
        text: $('file-text').value, contact: $('file-contact').value.trim(), phone: $('file-phone').value.trim(),
        address: $('file-address').value.trim(), key: fileKey,
      };
      const files = $('file-photos').files;
      let r;
      if (files.length > 0) {
        const form = new FormData();
        form.append('filing', JSON.stringify(filing));
        for (const f of files) form.append('photo', f);
        r = await upload('/api/cases', form);
      } else {
        r = await h.api('POST', '/api/cases', filing);
      }
      if (!r.ok) {
        $('file-error').textContent = r.data.error || '登记失败';
        return;
      }
      fileKey = '';
      for (const id of ['file-text', 'file-contact', 'file-phone', 'file-address', 'file-photos']) $(id).value = '';
      const n = r.data.case.number;
      $('file-notice').textContent = '已登记 ' + n + (r.data.bound ? '，居民已绑定公众号，将收到进展' : '，居民未绑定公众号，进展请电话告知');
      const a = document.createElement('a');
      a.href = '#/case/' + encodeURIComponent(n);
      a.textContent = ' 打开';
      $('file-notice').appendChild(a);
      h.loadList();
    } finally {
      button.disabled = !h.live.connected;
    }
  }

  // upload posts a FormData (photos) the way api posts JSON.
  async function upload(path, form) {
    let res;
    try {
      res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'X-Requested-With': 'gridbot' }, body: form });
    } catch (e) {
      return { ok: false, status: 0, data: { error: '网络不通，请稍后再试' } };
    }
    let data = {};
    try { data = await res.json(); } catch (e) { data = { error: '服务器返回了无法识别的内容' }; }
    return { ok: res.ok, status: res.status, data };
  }

  // resolveWithPhoto takes 办结 when a photo of the fix is chosen: it runs
  // before app.js's own handler (capture on the parent) and stops it.
  async function resolveWithPhoto(e) {
    if (e.target.id !== 'resolve-form' || $('resolve-photo').files.length === 0) return;
    e.preventDefault();
    e.stopPropagation();
    const number = h.state.openNumber;
    const button = $('resolve-send');
    $('case-error').textContent = '';
    $('case-notice').textContent = '';
    button.disabled = true;
    try {
      const form = new FormData();
      form.append('result', $('resolve-text').value);
      form.append('photo', $('resolve-photo').files[0]);
      const r = await upload('/api/cases/' + encodeURIComponent(number) + '/resolve-photo', form);
      if (number !== h.state.openNumber) return;
      if (!r.ok) {
        $('case-error').textContent = r.data.error || '操作失败';
        return;
      }
      $('resolve-text').value = '';
      $('resolve-photo').value = '';
      await h.openCase(number);
      $('case-notice').textContent = '已办结，居民将收到结果和现场照片';
    } finally {
      button.disabled = !h.live.connected;
    }
  }

  // ---- 派工单: one A4 page per case ----

  function el(tag, className, text) {
    const n = document.createElement(tag);
    if (className) n.className = className;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  // fillWorkOrder writes the open case onto the work order: what the page
  // shows this staff member (the phone as they may read it), the key steps
  // of the timeline, and lines to write the result and sign.
  function fillWorkOrder() {
    const c = shown;
    const wo = $('work-order');
    wo.replaceChildren();
    if (!c) return false;
    const town = ($('town-name').textContent || '').trim();
    wo.appendChild(el('h1', '', (town ? town + ' ' : '') + '网格事项派工单'));
    const head = el('p', 'wo-head');
    head.appendChild(el('span', '', '编号：' + c.number));
    head.appendChild(el('span', '', '状态：' + (c.state_label || '')));
    if (c.urgent) head.appendChild(el('strong', 'wo-urgent', '加急'));
    wo.appendChild(head);
    const text = (id) => ($(id).textContent || '').trim();
    const rows = [
      ['类别', text('case-category')],
      ['所在网格', text('case-place')],
      ['位置', text('case-location')],
      ['登记渠道', text('case-channel')],
      ['联系电话', text('case-phone')],
      ['承办人', text('case-assignee')],
      ['吹哨部门', text('case-departments')],
      ['提交时间', text('case-created')],
      ['办理时限', text('case-deadline')],
      ['诉求内容', text('case-text')],
    ];
    const table = el('table', 'wo-table');
    for (const [k, v] of rows) {
      const tr = el('tr');
      tr.appendChild(el('th', '', k));
      tr.appendChild(el('td', k === '诉求内容' ? 'wo-text' : '', v || '—'));
      table.appendChild(tr);
    }
    wo.appendChild(table);
    const steps = [...document.querySelectorAll('#case-timeline li.event')]
      .filter((li) => !['delivered', 'undeliverable', 'media_saved'].includes(li.dataset.kind))
      .slice(-8);
    if (steps.length) {
      wo.appendChild(el('h2', '', '办理经过（最近' + steps.length + '条）'));
      const ol = el('ol', 'wo-steps');
      for (const li of steps) {
        const parts = [...li.children].map((x) => x.textContent.replace(/\s+/g, ' ').trim()).filter(Boolean);
        ol.appendChild(el('li', '', parts.join(' ')));
      }
      wo.appendChild(ol);
    }
    wo.appendChild(el('h2', '', '现场处理情况'));
    for (let i = 0; i < 4; i++) wo.appendChild(el('div', 'wo-line'));
    const sign = el('p', 'wo-sign');
    for (const k of ['处理人签字', '完成时间', '居民确认']) sign.appendChild(el('span', '', k + '：'));
    wo.appendChild(sign);
    wo.appendChild(el('p', 'wo-foot', '打印：' + (me ? me.name : '') + ' · ' + new Date().toLocaleString('zh-CN', { timeZone: h.state.zone })));
    return true;
  }

  // ---- 批量导入 ----

  async function importStaff(e) {
    e.preventDefault();
    const button = $('import-send');
    $('import-error').textContent = '';
    $('import-notice').textContent = '';
    const table = $('import-refused');
    table.hidden = true;
    const body = table.querySelector('tbody');
    body.replaceChildren();
    const file = $('import-file').files[0];
    if (!file) return;
    button.disabled = true;
    try {
      const form = new FormData();
      form.append('file', file);
      const r = await upload('/api/staff/import', form);
      if (!r.ok) { $('import-error').textContent = r.data.error || '导入失败'; return; }
      $('import-notice').textContent = '已导入 ' + r.data.added.length + ' 人' + (r.data.refused.length ? '，' + r.data.refused.length + ' 行未导入（见下表）' : '');
      for (const x of r.data.refused) {
        const tr = el('tr');
        tr.appendChild(el('td', '', String(x.row)));
        tr.appendChild(el('td', '', x.id || '—'));
        tr.appendChild(el('td', '', x.reason));
        body.appendChild(tr);
      }
      table.hidden = r.data.refused.length === 0;
      $('import-file').value = '';
      // The list shows the new people.
      if (r.data.added.length) h.loadStaff();
    } finally {
      button.disabled = false;
    }
  }

  function wire(hooks) {
    h = hooks;
    $('import-form').addEventListener('submit', importStaff);
    $('print-order').addEventListener('click', () => { if (fillWorkOrder()) window.print(); });
    // Printed from the browser's own menu too: the order is filled first.
    window.addEventListener('beforeprint', fillWorkOrder);
    $('resolve-form').parentNode.addEventListener('submit', resolveWithPhoto, true);
    $('file-form').addEventListener('submit', fileFor);
    // A changed form is a new filing.
    for (const id of ['file-category', 'file-grid', 'file-text', 'file-phone']) {
      $(id).addEventListener('input', () => { fileKey = ''; });
    }
    $('note-form').addEventListener('submit', (e) => {
      e.preventDefault();
      h.sendStep('note', { text: $('note-text').value }, $('note-send'), [$('note-text')], '备注已记下，居民看不到');
    });
    $('urge-form').addEventListener('submit', (e) => {
      e.preventDefault();
      h.sendStep('urge', { text: $('urge-text').value }, $('urge-send'), [$('urge-text')], '已催办，承办人将收到推送');
    });
    $('urgent-form').addEventListener('submit', (e) => {
      e.preventDefault();
      h.sendStep('urgent', { reason: $('urgent-reason').value }, $('urgent-send'), [$('urgent-reason')], '已加急，办理时限已提前');
    });
    $('merge-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const into = $('merge-into').value.trim();
      if (!into || !window.confirm('确定把本事项合并到 ' + into + '？本事项将结案，居民转为跟进该事项。')) return;
      h.sendStep('merge', { into, reason: $('merge-reason').value }, $('merge-send'), [$('merge-into'), $('merge-reason')], '已合并，居民将收到通知');
    });
  }

  return { wire, loggedIn, showCase, eventDetail, fillWorkOrder };
})();
