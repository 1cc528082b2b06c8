// The simulator's stand-in for WeChat's JS-SDK (jweixin-1.6.0.js), for a
// page opened inside the simulated phone. wx.config is checked by the
// simulator as WeChat checks it (the AppID, the JS-safe domain, the
// signature over the jsapi_ticket); only then do wx.ready's callbacks run
// and the open tag <wx-open-subscribe template="id,id"> show its button.
// A tap asks the phone, which plays WeChat's pop-up; the tag then fires
// "success" with detail.subscribeDetails, as WeChat's does, or "error".
(function () {
  "use strict";
  const phone = window.parent !== window ? window.parent : null;
  let state = "new"; // new, checking, ok, failed
  let tags = [];
  const readyFns = [], errorFns = [];
  const waiting = {}; // request id → the tag that asked
  let nextId = 1;

  function fail(errMsg) {
    state = "failed";
    for (const fn of errorFns) fn({ errMsg: errMsg });
  }

  window.wx = window.jWeixin = {
    config(c) {
      if (!phone) { fail("config:fail, not in WeChat"); return; }
      state = "checking";
      tags = Array.isArray(c.openTagList) ? c.openTagList.slice() : [];
      phone.postMessage({
        wxsim: "config",
        url: location.href.split("#")[0],
        config: {
          appId: String(c.appId || ""), timestamp: String(c.timestamp || ""),
          nonceStr: String(c.nonceStr || ""), signature: String(c.signature || ""), openTagList: tags,
        },
      }, "*");
    },
    ready(fn) { if (state === "ok") fn(); else readyFns.push(fn); },
    error(fn) { errorFns.push(fn); },
  };

  window.addEventListener("message", (ev) => {
    if (ev.source !== phone || !ev.data) return;
    const d = ev.data;
    if (d.wxsim === "config-result") {
      if (!d.ok) { fail(d.errMsg || "config:fail"); return; }
      state = "ok";
      for (const fn of readyFns.splice(0)) fn();
      for (const el of document.querySelectorAll("wx-open-subscribe")) el.wxsimShow();
    } else if (d.wxsim === "subscribe-result") {
      const el = waiting[d.id];
      delete waiting[d.id];
      if (!el) return;
      if (d.ok) {
        el.dispatchEvent(new CustomEvent("success", { detail: { errMsg: "subscribe:ok", subscribeDetails: d.subscribeDetails } }));
      } else {
        el.dispatchEvent(new CustomEvent("error", { detail: { errCode: 1, errMsg: d.error || "subscribe:fail" } }));
      }
    }
  });

  // The open tag: hidden until wx.config passed with it in openTagList;
  // its button is the markup in its <script type="text/wxtag-template">.
  class OpenSubscribe extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const root = this.attachShadow({ mode: "open" });
      const tpl = this.querySelector('script[type="text/wxtag-template"]');
      const box = document.createElement("div");
      box.hidden = true;
      const parsed = new DOMParser().parseFromString(tpl ? tpl.textContent : "<button>订阅</button>", "text/html");
      box.append(...parsed.body.childNodes);
      root.appendChild(box);
      this.box = box;
      box.addEventListener("click", () => {
        const ids = (this.getAttribute("template") || "").split(",").map((s) => s.trim()).filter(Boolean);
        const id = nextId++;
        waiting[id] = this;
        phone.postMessage({ wxsim: "subscribe", id: id, templates: ids, url: location.href.split("#")[0] }, "*");
      });
      if (state === "ok") this.wxsimShow();
    }
    wxsimShow() {
      if (this.box && tags.includes("wx-open-subscribe")) this.box.hidden = false;
    }
  }
  customElements.define("wx-open-subscribe", OpenSubscribe);
})();
