"use strict";
const who = document.getElementById("who"), chat = document.getElementById("chat");
let shown = 0, current = "";

function esc(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }

// WeCom's card description is a little HTML of div.gray/normal/highlight:
// keep only those, as text.
function cardBody(desc) {
  const box = document.createElement("div");
  const doc = new DOMParser().parseFromString(desc, "text/html");
  for (const d of doc.body.querySelectorAll("div")) {
    const line = document.createElement("div");
    const cls = d.className;
    if (["gray", "normal", "highlight"].includes(cls)) line.className = cls;
    line.textContent = d.textContent;
    box.appendChild(line);
  }
  return box;
}

function draw(e) {
  if (e.card) {
    const c = document.createElement("div");
    c.className = "card";
    const h = document.createElement("h4"); h.textContent = e.card.title; c.appendChild(h);
    c.appendChild(cardBody(e.card.description));
    const a = document.createElement("a");
    a.href = "sim/open?userid=" + encodeURIComponent(current) + "&url=" + encodeURIComponent(e.card.url);
    a.target = "_blank"; a.textContent = e.card.btntxt || "详情";
    c.appendChild(a);
    chat.appendChild(c);
  } else {
    const d = document.createElement("div");
    d.className = "line " + e.kind; d.textContent = e.text;
    chat.appendChild(d);
  }
  chat.scrollTop = chat.scrollHeight;
}

async function poll() {
  if (current) {
    const r = await fetch("sim/chat?userid=" + encodeURIComponent(current) + "&after=" + shown);
    for (const e of await r.json()) { draw(e); shown = e.n; }
  }
  const p = await fetch("sim/robots");
  const posts = await p.json();
  document.getElementById("posts").innerHTML = (posts || []).map(x =>
    "<p><b>" + esc(x.group) + "</b> <small>" + esc(new Date(x.at).toLocaleTimeString()) + "</small></p><pre>" + esc(x.content) + "</pre>").join("");
}

who.onchange = () => { current = who.value; shown = 0; chat.innerHTML = ""; poll(); };
document.getElementById("say").onsubmit = async ev => {
  ev.preventDefault();
  const t = document.getElementById("text");
  if (!t.value.trim() || !current) return;
  await fetch("sim/send", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ userid: current, text: t.value }) });
  t.value = ""; poll();
};

document.getElementById("photo").onclick = async () => {
  if (!current) return;
  await fetch("sim/send", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ userid: current, photo: true }) });
  poll();
};

(async () => {
  const r = await fetch("sim/members");
  for (const m of await r.json()) {
    const o = document.createElement("option"); o.value = m.userid; o.textContent = m.name; who.appendChild(o);
  }
  current = who.value;
  poll(); setInterval(poll, 1000);
})();
