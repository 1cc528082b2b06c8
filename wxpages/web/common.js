// Shared by the pages inside WeChat: calls to the page API and small DOM
// helpers. Text from the server is always set as text, never as HTML.
"use strict";

const wx = {
  csrf: "",

  $(id) { return document.getElementById(id); },

  show(id, on) { wx.$(id).hidden = !on; },

  text(id, value) { wx.$(id).textContent = value == null ? "" : String(value); },

  error(message) {
    const box = wx.$("error");
    box.textContent = message || "";
    box.hidden = !message;
    if (message) box.scrollIntoView({ block: "nearest" });
  },

  toast(message) {
    const t = wx.$("toast");
    if (!t) return;
    t.textContent = message;
    t.hidden = false;
    clearTimeout(wx.toastTimer);
    wx.toastTimer = setTimeout(() => { t.hidden = true; }, 2500);
  },

  // api fetches JSON from the page API; a POST sends a FormData with the
  // session's CSRF token. It resolves to the JSON, or rejects with an
  // Error whose message is the server's own words.
  async api(path, form) {
    const opts = { credentials: "same-origin", headers: {} };
    if (form) {
      opts.method = "POST";
      opts.body = form;
      opts.headers["X-CSRF-Token"] = wx.csrf;
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new Error("网络不通，请稍后再试。");
    }
    let body = {};
    try { body = await res.json(); } catch (e) { body = {}; }
    if (res.status === 401) {
      // The session ended: the page itself authorises again.
      location.reload();
      throw new Error(body.error || "登录已过期。");
    }
    if (!res.ok) throw new Error(body.error || "出错了，请稍后再试。");
    if (body.csrf) wx.csrf = body.csrf;
    return body;
  },

  img(src) {
    const a = document.createElement("a");
    a.href = src;
    a.target = "_blank";
    const i = document.createElement("img");
    i.src = src;
    i.alt = "照片";
    i.loading = "lazy";
    a.appendChild(i);
    return a;
  },

  timeline(id, lines) {
    const ol = wx.$(id);
    ol.replaceChildren();
    for (const l of lines) {
      const li = document.createElement("li");
      const at = document.createElement("span");
      at.className = "at";
      at.textContent = l.at;
      li.appendChild(at);
      li.appendChild(document.createTextNode(l.words));
      if (l.photo) {
        li.appendChild(document.createElement("br"));
        li.appendChild(wx.img(l.photo));
      }
      ol.appendChild(li);
    }
  },

  photos(id, urls) {
    const box = wx.$(id);
    box.replaceChildren(...urls.map(wx.img));
  },

  // busy disables the buttons while a step is under way.
  async busy(fn) {
    const buttons = [...document.querySelectorAll("button")];
    buttons.forEach((b) => { b.disabled = true; });
    try { await fn(); } finally { buttons.forEach((b) => { b.disabled = false; }); }
  },
};
