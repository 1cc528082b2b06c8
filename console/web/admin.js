// gridbot staff console: the second factor at login (身份鉴别) and the pages
// of the audit and security administrators (三权分立). app.js hands over
// its api call. Text from the server goes on the page with textContent only.
'use strict';

window.gridbotAdmin = (function () {
  const $ = (id) => document.getElementById(id);
  let api = null;

  function wire(calls) { api = calls.api; }

  function el(tag, text) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // secondFactor shows the code step after a right password and resolves
  // with the staff member once a code logs in (null if the person starts
  // over). answer is the password step's answer.
  function secondFactor(answer) {
    return new Promise((resolve) => {
      const form = $('factor-form');
      $('login-form').hidden = true;
      form.hidden = false;
      const enrol = answer.second_factor === 'enrol';
      $('factor-enrol').hidden = !enrol;
      $('factor-qr-box').replaceChildren();
      if (enrol) {
        // Drawn only for an enrolment, and removed once it is done.
        const img = document.createElement('img');
        img.id = 'factor-qr';
        img.alt = '身份验证器二维码';
        img.width = img.height = 240;
        img.src = '/api/login/qr?t=' + Date.now();
        $('factor-qr-box').appendChild(img);
        $('factor-secret').textContent = answer.secret;
      }
      $('factor-error').textContent = '';
      $('factor-code').value = '';
      $('factor-code').focus();
      const done = (staff) => {
        $('factor-qr-box').replaceChildren();
        $('factor-secret').textContent = '';
        form.hidden = true;
        $('login-form').hidden = false;
        form.onsubmit = null;
        $('factor-back').onclick = null;
        resolve(staff);
      };
      $('factor-back').onclick = () => done(null);
      form.onsubmit = async (e) => {
        e.preventDefault();
        $('factor-submit').disabled = true;
        try {
          const r = await api('POST', '/api/login/code', { code: $('factor-code').value.trim() });
          if (!r.ok) {
            $('factor-error').textContent = r.data.error || '验证失败';
            if (r.status === 401 && r.data.error && r.data.error.indexOf('超时') >= 0) done(null);
            return;
          }
          if (r.data.recovery_codes && r.data.recovery_codes.length) {
            await showRecovery(r.data.recovery_codes);
          }
          done(r.data);
        } finally {
          $('factor-submit').disabled = false;
        }
      };
    });
  }

  // expiredPassword asks for a new password when the old one expired, and
  // resolves with the login's next answer (a second factor or the staff
  // member), or null if the person starts over. username and password are
  // what they logged in with.
  function expiredPassword(answer, username, password) {
    return new Promise((resolve) => {
      const form = $('expired-form');
      $('login-form').hidden = true;
      form.hidden = false;
      $('expired-notice').textContent = answer.notice || '';
      $('expired-rule').textContent = answer.rule || '';
      $('expired-error').textContent = '';
      $('expired-new').value = $('expired-again').value = '';
      $('expired-new').focus();
      const done = (next) => {
        form.hidden = true;
        $('login-form').hidden = false;
        form.onsubmit = null;
        $('expired-back').onclick = null;
        $('expired-new').value = $('expired-again').value = '';
        resolve(next);
      };
      $('expired-back').onclick = () => done(null);
      form.onsubmit = async (e) => {
        e.preventDefault();
        if ($('expired-new').value !== $('expired-again').value) {
          $('expired-error').textContent = '两次输入的新密码不一致';
          return;
        }
        $('expired-submit').disabled = true;
        try {
          const r = await api('POST', '/api/login/password', { username, password, new_password: $('expired-new').value });
          if (!r.ok) {
            $('expired-error').textContent = r.data.error || '修改失败';
            if (r.status === 401 || r.status === 429) done(null);
            return;
          }
          done(r.data);
        } finally {
          $('expired-submit').disabled = false;
        }
      };
    });
  }

  // showRecovery shows the recovery codes once, until the person says they
  // kept them.
  function showRecovery(codes) {
    return new Promise((resolve) => {
      $('factor-form').hidden = true;
      const box = $('recovery-box');
      const list = $('recovery-codes');
      list.replaceChildren(...codes.map((c) => el('li', c)));
      box.hidden = false;
      $('recovery-kept').onclick = () => {
        box.hidden = true;
        list.replaceChildren();
        resolve();
      };
    });
  }

  // nav shows each administrator their own page.
  function nav(me) {
    $('nav-audit').hidden = me.role !== 'auditor';
    $('nav-security').hidden = me.role !== 'security';
    const admin = ['sysadmin', 'auditor', 'security'].includes(me.role);
    for (const a of document.querySelectorAll('#nav a.case-work')) a.hidden = admin;
  }

  // route shows an administrator's page for hash h; false when h is not
  // one of theirs.
  function route(h, me, show) {
    if (h === '#/audit' && me.role === 'auditor') { show('audit-view'); loadAudit(); return true; }
    if (h === '#/security' && me.role === 'security') { show('security-view'); loadSecurity(); return true; }
    if (me.role === 'auditor') { location.hash = '#/audit'; return true; }
    if (me.role === 'security') { location.hash = '#/security'; return true; }
    return false;
  }

  function auditQuery() {
    const q = new URLSearchParams();
    for (const [name, id] of [['actor', 'audit-actor'], ['action', 'audit-action'], ['outcome', 'audit-outcome'],
      ['text', 'audit-text'], ['from', 'audit-from'], ['to', 'audit-to']]) {
      const v = $(id).value.trim();
      if (v) q.set(name, v);
    }
    return q.toString();
  }

  async function loadAudit() {
    const q = auditQuery();
    $('audit-csv').href = '/api/audit.csv' + (q ? '?' + q : '');
    const r = await api('GET', '/api/audit' + (q ? '?' + q : ''));
    if (!r.ok) { $('audit-error').textContent = r.data.error || '加载失败'; return; }
    $('audit-error').textContent = '';
    const sel = $('audit-action');
    if (sel.options.length <= 1) {
      for (const a of r.data.actions) {
        const o = el('option', a.label);
        o.value = a.id;
        sel.appendChild(o);
      }
    }
    const rows = r.data.records.map((rec) => {
      const tr = el('tr');
      for (const text of [String(rec.seq), new Date(rec.at).toLocaleString('zh-CN', { hour12: false }), rec.actor,
        rec.addr || '—', rec.action_label, rec.object || '—', rec.outcome_label, rec.detail || '']) {
        tr.appendChild(el('td', text));
      }
      if (rec.outcome !== 'ok') tr.className = 'bad';
      return tr;
    });
    $('audit-rows').replaceChildren(...rows);
    $('audit-count').textContent = '共 ' + rows.length + ' 条' + (r.data.more ? '（仅显示最新 ' + rows.length + ' 条，导出可得全部）' : '');
  }

  async function verifyAudit() {
    $('audit-verify-result').textContent = '校验中…';
    const r = await api('GET', '/api/audit/verify');
    if (!r.ok) { $('audit-verify-result').textContent = r.data.error || '校验失败'; return; }
    const d = r.data;
    $('audit-verify-result').textContent = d.ok
      ? '哈希链完整：共 ' + d.records + ' 条（' + d.first + '–' + d.last + '），最新哈希 ' + d.head
      : '发现 ' + d.breaks.length + ' 处被改动或删除：' + d.breaks.map((b) => '第 ' + b.seq + ' 条 ' + b.reason).join('；');
  }

  async function loadSecurity() {
    const r = await api('GET', '/api/security/staff');
    if (!r.ok) { $('security-error').textContent = r.data.error || '加载失败'; return; }
    $('security-error').textContent = '';
    const s = r.data.settings;
    $('security-settings').textContent = '第二因素：' + (s.second_factor ? '每次登录必须' : '未开启（仅演示或测试）') +
      '；会话最长 ' + Math.round(s.session_lifetime_ns / 3.6e12) + ' 小时；每账号每地址 ' + s.login_window_minutes + ' 分钟内最多尝试 ' +
      s.login_attempts_per_account_and_address + ' 次。以上在配置文件中设置。';
    const rows = r.data.staff.map((v) => {
      const tr = el('tr');
      tr.dataset.id = v.id;
      for (const text of [v.id, v.name, v.role_label, v.disabled ? '已停用' : '正常',
        v.enrolled ? '已绑定（' + new Date(v.enrolled_at).toLocaleDateString('zh-CN') + '，剩余恢复码 ' + v.recovery_left + ' 个）' : '未绑定']) {
        tr.appendChild(el('td', text));
      }
      const td = el('td');
      if (v.enrolled) {
        const b = el('button', '重置第二因素');
        b.type = 'button';
        b.className = 'secondary';
        b.onclick = async () => {
          if (!window.confirm('重置 ' + v.name + ' 的第二因素？其登录将全部结束，下次登录须重新绑定。')) return;
          const res = await api('POST', '/api/security/staff/' + encodeURIComponent(v.id) + '/reset-second-factor', {});
          $('security-notice').textContent = res.ok ? v.name + '：第二因素已重置' : (res.data.error || '重置失败');
          loadSecurity();
        };
        td.appendChild(b);
      }
      tr.appendChild(td);
      return tr;
    });
    $('security-rows').replaceChildren(...rows);
  }

  function wirePages() {
    $('audit-form').addEventListener('submit', (e) => { e.preventDefault(); loadAudit(); });
    $('audit-verify').addEventListener('click', verifyAudit);
  }

  document.addEventListener('DOMContentLoaded', wirePages);

  return { wire, secondFactor, expiredPassword, nav, route };
})();
