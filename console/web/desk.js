// gridbot staff console: the desk's tools (issue 18) — 代录, internal
// notes, 催办, 加急 and 合并. app.js hands over its calls (wire) and tells
// this file when someone logs in and when a case is shown. As in app.js,
// text from the server goes on the page with textContent only.
'use strict';

window.gridbotDesk = (function () {
  const $ = (id) => document.getElementById(id);
  let h = null; // app.js's calls: api, sendStep, openCase, loadList, state, live

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

  function loggedIn(me, dir) {
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

  function wire(hooks) {
    h = hooks;
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

  return { wire, loggedIn, showCase, eventDetail };
})();
