// The town picker of a city deployment's login page (README: Towns as
// tenants): the city lists its towns at /api/towns, and the choice is kept
// by the server in a cookie that routes this browser's console requests to
// that town. A single town's console answers 404 there, and no picker shows.
(() => {
  'use strict';
  const choose = async (key) => {
    const r = await fetch('/api/town', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'gridbot' },
      body: JSON.stringify({ town: key }),
    });
    // The town the next login goes to, once the server has it.
    if (r.ok) document.getElementById('login-town').dataset.chosen = key;
  };
  window.addEventListener('DOMContentLoaded', async () => {
    let data;
    try {
      const r = await fetch('/api/towns', { credentials: 'same-origin' });
      if (!r.ok) return;
      data = await r.json();
    } catch (e) {
      return;
    }
    if (!data.towns || data.towns.length < 2) return;
    const sel = document.getElementById('login-town');
    for (const t of data.towns) {
      const o = document.createElement('option');
      o.value = t.key;
      o.textContent = t.name;
      sel.appendChild(o);
    }
    sel.value = data.current || data.towns[0].key;
    document.getElementById('login-town-row').hidden = false;
    sel.addEventListener('change', () => choose(sel.value));
    if (!data.current) await choose(sel.value);
  });
})();
