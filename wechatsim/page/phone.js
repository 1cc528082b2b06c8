// The simulator's phone: everything shown goes through textContent.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const chat = $("chat"), openidBox = $("openid"), status = $("status");
  let shown = 0;        // chat lines shown for the current openid
  let current = "";     // the openid those lines belong to
  let polling = false;

  function setStatus(text) { status.textContent = text || ""; }

  function openid() { return openidBox.value.trim(); }

  function resetChat() {
    chat.replaceChildren();
    shown = 0;
    current = openid();
    const hint = document.createElement("p");
    hint.className = "empty";
    hint.textContent = current ? "还没有消息" : "请先选择一个用户";
    chat.appendChild(hint);
    highlightContact();
  }

  function addLine(e) {
    const empty = chat.querySelector(".empty");
    if (empty) empty.remove();
    const div = document.createElement("div");
    div.className = "msg " + e.kind;
    if (e.card) {
      // A template (or 订阅通知) as WeChat shows it: the title, each field
      // after its label, and 详情, which opens the page inside the phone.
      div.classList.add("card");
      const title = document.createElement("div");
      title.className = "card-title";
      title.textContent = e.card.title;
      div.appendChild(title);
      for (const f of e.card.fields || []) {
        const row = document.createElement("div");
        row.className = "card-row";
        const label = document.createElement("span");
        label.className = "card-label";
        label.textContent = f.label;
        const value = document.createElement("span");
        value.textContent = f.value;
        row.append(label, value);
        div.appendChild(row);
      }
      if (e.card.url) {
        const more = document.createElement("button");
        more.type = "button";
        more.className = "card-more";
        more.textContent = "详情";
        more.addEventListener("click", () => openPage(e.card.url));
        div.appendChild(more);
      }
    } else {
      if (e.kind === "push") {
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = "客服消息";
        div.appendChild(tag);
      }
      if (e.image) {
        // A photo is shown as the photo, never as its media ID.
        div.classList.add("photo");
        const img = document.createElement("img");
        img.src = e.image;
        img.alt = "图片";
        img.addEventListener("load", scrollToNewest);
        div.appendChild(img);
      } else {
        div.appendChild(document.createTextNode(e.text));
      }
    }
    div.title = new Date(e.at).toLocaleString("zh-CN");
    chat.appendChild(div);
    scrollToNewest();
  }

  // The newest message is always in view, as in WeChat.
  function scrollToNewest() { chat.scrollTop = chat.scrollHeight; }

  async function poll() {
    if (polling || !openid()) return;
    if (openid() !== current) resetChat();
    polling = true;
    try {
      const who = current;
      const r = await fetch("/sim/inbox?openid=" + encodeURIComponent(who) + "&after=" + shown);
      const data = await r.json();
      if (who !== current) return;
      for (const e of data.entries || []) {
        if (e.n > shown) { addLine(e); shown = e.n; }
      }
    } catch (err) {
      setStatus("连接模拟器失败");
    } finally {
      polling = false;
    }
  }

  async function send(msg) {
    if (!openid()) { setStatus("请先选择一个用户"); return; }
    msg.openid = openid();
    setStatus("发送中…");
    try {
      const r = await fetch("/sim/send", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(msg),
      });
      const data = await r.json();
      setStatus(data.error || "");
    } catch (err) {
      setStatus("发送失败");
    }
    poll();
  }

  // openPage shows a page inside the phone, as WeChat's browser, for the
  // current user (web authorisation at the simulator knows them).
  function openPage(url) {
    if (!/^https?:\/\//.test(url)) return;
    $("pageFrame").src = "/sim/open?openid=" + encodeURIComponent(openid()) + "&url=" + encodeURIComponent(url);
    $("pageUrl").textContent = url;
    $("page").hidden = false;
  }

  async function subscribe(accept, templates, page) {
    if (!openid()) { setStatus("请先选择一个用户"); return { ok: false, error: "no openid" }; }
    setStatus("订阅中…");
    let data = {};
    try {
      const r = await fetch("/sim/subscribe", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ openid: openid(), accept: accept, templates: templates || [], page: page || "" }),
      });
      data = await r.json();
      setStatus(data.error || (accept ? "已允许一次进展通知" : "已取消"));
    } catch (err) {
      data = { ok: false, error: "subscribe:fail" };
      setStatus("订阅失败");
    }
    poll();
    return data;
  }

  // A page's wx.config, checked by the simulator as WeChat checks it.
  async function checkConfig(url, config) {
    try {
      const r = await fetch("/sim/jsconfig", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ openid: openid(), url: url }, config)),
      });
      return await r.json();
    } catch (err) {
      return { ok: false, errMsg: "config:fail" };
    }
  }

  // Which contact each button picks: kept here, not in the page, so no
  // openid is ever in what the phone shows.
  const contactOf = new Map();

  function highlightContact() {
    for (const b of $("contacts").children) {
      b.classList.toggle("on", contactOf.get(b) === current);
    }
  }

  async function loadContacts() {
    try {
      const r = await fetch("/sim/contacts");
      const data = await r.json();
      if (data.account) $("account").textContent = "公众号 " + data.account;
      for (const c of data.contacts || []) {
        const b = document.createElement("button");
        b.type = "button";
        contactOf.set(b, c.openid);
        b.textContent = c.label || "用户 " + (($("contacts").children.length) + 1);
        b.addEventListener("click", () => { openidBox.value = c.openid; resetChat(); poll(); });
        $("contacts").appendChild(b);
      }
      const first = (data.contacts || [])[0];
      if (!openid() && first) openidBox.value = first.openid;
    } catch (err) {
      setStatus("读取联系人失败");
    }
    resetChat();
    poll();
  }

  $("textForm").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    $("text").value = "";
    send({ kind: "text", text: text });
  });
  $("locForm").addEventListener("submit", (ev) => {
    ev.preventDefault();
    send({ kind: "location", lat: parseFloat($("lat").value), lng: parseFloat($("lng").value), label: $("label").value });
  });
  $("report").addEventListener("click", () => send({ kind: "click", key: "REPORT" }));
  $("subscribe").addEventListener("click", () => send({ kind: "subscribe" }));
  // 发照片 picks a photo on the device, as WeChat's album does; it goes
  // to WeChat as temporary media and to the account as an image message.
  $("photo").addEventListener("click", () => {
    if (!openid()) { setStatus("请先选择一个用户"); return; }
    $("photoFile").click();
  });
  $("photoFile").addEventListener("change", async () => {
    const file = $("photoFile").files[0];
    $("photoFile").value = "";
    if (!file) return;
    if (file.size > 10 * 1024 * 1024) { setStatus("照片不能超过10MB"); return; }
    const form = new FormData();
    form.append("openid", openid());
    form.append("photo", file);
    setStatus("发送中…");
    try {
      const r = await fetch("/sim/photo", { method: "POST", body: form });
      const data = await r.json();
      setStatus(data.error || "");
    } catch (err) {
      setStatus("发送失败");
    }
    poll();
  });
  $("voice").addEventListener("click", () => {
    const text = $("text").value;
    $("text").value = "";
    send({ kind: "voice", text: text }); // what it says: heard only through the ASR
  });
  $("grant").addEventListener("click", () => subscribe(true));
  // A page inside the phone talks to WeChat through the JS-SDK (the
  // simulator's jweixin.js): its wx.config is checked, and a tap on its
  // wx-open-subscribe plays the pop-up, where the user allows.
  window.addEventListener("message", async (ev) => {
    const frame = $("pageFrame").contentWindow;
    if (ev.source !== frame || !ev.data) return;
    const d = ev.data;
    if (d.wxsim === "config" && d.config && typeof d.url === "string") {
      const res = await checkConfig(d.url, d.config);
      frame.postMessage({ wxsim: "config-result", ok: !!res.ok, errMsg: res.errMsg || "" }, "*");
    } else if (d.wxsim === "subscribe" && typeof d.url === "string") {
      const ids = Array.isArray(d.templates) ? d.templates.filter((t) => typeof t === "string").slice(0, 8) : [];
      const res = await subscribe(true, ids, d.url);
      frame.postMessage({ wxsim: "subscribe-result", id: d.id, ok: !!res.ok, error: res.error || "",
        subscribeDetails: res.subscribeDetails || "" }, "*");
    }
  });
  $("closePage").addEventListener("click", () => { $("page").hidden = true; $("pageFrame").src = "about:blank"; });
  openidBox.addEventListener("change", () => { resetChat(); poll(); });

  loadContacts();
  setInterval(poll, 1000);
})();
