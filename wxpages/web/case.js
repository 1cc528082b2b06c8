// The page of one case: a resident follows and rates it, staff work it.
"use strict";

(() => {
  const number = decodeURIComponent(location.pathname.split("/").pop());
  const apiPath = "/wx/api/cases/" + encodeURIComponent(number);
  let view = null;
  let formStep = "";

  async function load() {
    try {
      render(await wx.api(apiPath));
    } catch (e) {
      wx.show("loading", false);
      wx.error(e.message);
    }
  }

  function render(v) {
    view = v;
    wx.show("loading", false);
    wx.error("");
    if (v.role === "staff") renderStaff(v); else renderResident(v);
  }

  // ---- resident ----

  function renderResident(v) {
    wx.show("resident", true);
    wx.text("r-number", "事项编号 " + v.number);
    wx.text("r-state", v.state_label);
    wx.text("r-progress", v.progress);
    wx.text("r-category", v.category);
    wx.text("r-place", v.place);
    wx.text("r-filed", v.filed);
    wx.text("r-deadline", v.deadline);
    wx.show("r-deadline-label", !!v.deadline);
    wx.show("r-deadline", !!v.deadline);
    wx.text("r-text", v.text);
    wx.photos("r-photos", v.photos);
    wx.show("r-result-card", !!v.result);
    wx.text("r-result", v.result);
    wx.show("r-rate-card", v.can.rate || v.can.not_fixed);
    wx.show("r-rate", v.can.rate);
    wx.show("r-notfixed", v.can.not_fixed);
    wx.show("r-rated", !!v.rating && !v.can.rate);
    wx.text("r-rating", v.rating);
    wx.show("r-supplement-card", v.can.supplement);
    wx.show("r-subscribe-card", (v.subscribe || []).length > 0 && v.state !== "closed");
    wx.timeline("r-timeline", v.timeline);
    offerSubscribe(v);
  }

  async function step(name, form) {
    await wx.busy(async () => {
      try {
        const v = await wx.api(apiPath + "/" + name, form || new FormData());
        if (v.gone) {
          wx.show("staff", false);
          wx.show("resident", false);
          wx.error("");
          wx.toast(v.words);
          wx.$("loading").textContent = v.words;
          wx.show("loading", true);
          return;
        }
        render(v);
        wx.toast("已提交");
      } catch (e) {
        wx.error(e.message);
      }
    });
  }

  wx.$("r-rate").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-score]");
    if (!b) return;
    const f = new FormData();
    f.append("score", b.dataset.score);
    step("rate", f);
  });
  wx.$("r-notfixed").addEventListener("click", () => step("not_fixed"));
  wx.$("r-supplement").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const f = new FormData(form);
    if (form.photo.files.length > 3) { wx.error("最多3张照片。"); return; }
    step("supplement", f).then(() => form.reset());
  });

  // 订阅通知: WeChat's own button, the open tag wx-open-subscribe, shows
  // once the page has passed wx.config, signed by the server with the
  // jsapi_ticket over this page's URL. The grant reaches the server from
  // WeChat (subscribe_msg_popup_event), not from this page.
  let subscribeAsked = false;
  function subscribeNote(text) {
    wx.text("r-subscribe-note", text);
    wx.show("r-subscribe-note", !!text);
  }
  async function offerSubscribe(v) {
    if (subscribeAsked || !(v.subscribe || []).length || v.state === "closed") return;
    subscribeAsked = true;
    if (!v.jssdk) { subscribeNote("进展会通过公众号消息通知您。"); return; }
    let cfg;
    try {
      cfg = await wx.api("/wx/api/jsconfig?url=" + encodeURIComponent(location.href.split("#")[0]));
    } catch (e) {
      subscribeNote(e.message);
      return;
    }
    const tag = document.createElement("wx-open-subscribe");
    tag.setAttribute("template", v.subscribe.join(","));
    tag.id = "r-open-subscribe";
    const tpl = document.createElement("script");
    tpl.type = "text/wxtag-template";
    tpl.textContent = '<button type="button">订阅进展通知</button>';
    tag.appendChild(tpl);
    tag.addEventListener("success", (e) => {
      const d = (e.detail && e.detail.subscribeDetails) || "";
      subscribeNote(/accept/.test(d) ? "已订阅：下一次进展会通过微信通知您。" : "您没有允许，进展仍会通过公众号消息通知您。");
    });
    tag.addEventListener("error", () => subscribeNote("订阅没有成功，进展仍会通过公众号消息通知您。"));
    document.addEventListener("WeixinOpenTagsError", () => subscribeNote("您的微信版本不能订阅，请升级微信；进展仍会通过公众号消息通知您。"));
    wx.$("r-subscribe").replaceChildren(tag);
    const sdk = document.createElement("script");
    sdk.src = cfg.script;
    sdk.onload = () => {
      // The JS-SDK sets window.jWeixin (and window.wx, which common.js's
      // own "wx" helpers shadow for these scripts).
      const w = window.jWeixin;
      if (!w || !w.config) { subscribeNote("暂时不能订阅，进展仍会通过公众号消息通知您。"); return; }
      w.error(() => subscribeNote("暂时不能订阅，进展仍会通过公众号消息通知您。"));
      w.config({ debug: false, appId: cfg.appId, timestamp: cfg.timestamp, nonceStr: cfg.nonceStr,
        signature: cfg.signature, jsApiList: cfg.jsApiList, openTagList: cfg.openTagList });
    };
    sdk.onerror = () => subscribeNote("暂时不能订阅，进展仍会通过公众号消息通知您。");
    document.head.appendChild(sdk);
  }

  // ---- staff ----

  // What each step's form asks for; steps without one run at once.
  const forms = {
    reply: { title: "回复居民", text: "写给居民的话", field: "text" },
    resolve: { title: "办结", text: "办理结果", field: "result", photo: true },
    whistle: { title: "吹哨部门", text: "吹哨理由（选填）", field: "reason", dept: true },
    return: { title: "退回", text: "退回理由", field: "reason" },
    ask_change: { title: "申请延期或挂起", text: "申请理由", field: "reason", change: true },
    decide: { title: "审批延期或挂起", text: "审批意见（不同意时必填）", field: "note", approve: true },
  };

  function renderStaff(v) {
    wx.show("staff", true);
    wx.text("s-number", "事项编号 " + v.number + (v.overdue ? " · 已超期" : ""));
    wx.text("s-state", v.state_label);
    wx.text("s-who", v.staff + "，您好");
    wx.text("s-category", v.category);
    wx.text("s-place", v.place);
    wx.text("s-assignee", v.assignee ? v.assignee + (v.post ? "（" + v.post + "岗）" : "") : "待派单");
    wx.text("s-filed", v.filed);
    wx.text("s-deadline", (v.deadline || "—") + (v.paused ? "（已挂起，暂停计时）" : ""));
    wx.show("s-pending-card", !!v.pending);
    if (v.pending) {
      wx.text("s-pending", v.pending.by + " " + v.pending.at + " 申请" + v.pending.words + "：" + v.pending.reason);
    }
    wx.show("s-paused", !!v.paused);
    wx.text("s-paused", v.paused ? "本事项已挂起" + (v.resume_at ? "，" + v.resume_at + "自动恢复计时" : "，需人工恢复计时") + "。" : "");
    wx.$("s-phone").replaceChildren();
    if (v.phone && v.phone_visible) {
      const a = document.createElement("a");
      a.href = "tel:" + v.phone;
      a.textContent = v.phone;
      wx.$("s-phone").appendChild(a);
    } else {
      wx.text("s-phone", v.phone || "未留");
    }
    wx.text("s-address", v.address);
    wx.show("s-address-label", !!v.address);
    wx.show("s-address", !!v.address);
    wx.text("s-joined", v.joined ? v.joined + " 人" : "无");
    wx.text("s-text-body", v.text);
    wx.text("s-text-read", v.text_read ? "简体：" + v.text_read : "");
    wx.show("s-text-read", !!v.text_read);
    const deps = wx.$("s-departments");
    deps.replaceChildren(...v.departments.map((d) => {
      const li = document.createElement("li");
      li.textContent = "部门：" + d;
      return li;
    }));
    wx.photos("s-photos", v.photos);
    wx.$("s-voices").replaceChildren(...v.voices.map((src) => {
      const a = document.createElement("audio");
      a.controls = true;
      a.preload = "none";
      a.src = src;
      return a;
    }));
    wx.show("s-result-card", !!v.result);
    wx.text("s-result", v.result + (v.rating ? "（居民评分 " + v.rating + " 分）" : ""));
    renderMap(v);
    wx.timeline("s-timeline", v.timeline);
    const box = wx.$("s-actions");
    box.replaceChildren(...v.steps.map((s) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.step = s.step;
      b.textContent = s.label;
      if (s.step === "transfer" || s.step === "return" || s.step === "ask_change") b.className = "secondary";
      return b;
    }));
    closeForm();
  }

  function renderMap(v) {
    const svg = wx.$("s-map");
    svg.replaceChildren();
    wx.show("s-map-card", !!v.map);
    if (!v.map) return;
    const ns = "http://www.w3.org/2000/svg";
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", v.map.path);
    svg.appendChild(path);
    if (v.map.dot) {
      const c = document.createElementNS(ns, "circle");
      c.setAttribute("cx", v.map.dot[0]);
      c.setAttribute("cy", v.map.dot[1]);
      c.setAttribute("r", "2.5");
      svg.appendChild(c);
    }
    const loc = v.location;
    wx.text("s-map-note", v.place + (loc && loc.label ? " · " + loc.label : "") +
      (v.map.dot ? "（红点为居民位置）" : ""));
  }

  function openForm(stepName) {
    const f = forms[stepName];
    formStep = stepName;
    wx.text("s-form-title", f.title);
    const text = wx.$("s-text");
    text.name = f.field;
    text.placeholder = f.text;
    text.value = "";
    wx.show("s-photo-label", !!f.photo);
    wx.show("s-dept-label", !!f.dept);
    wx.show("s-change-fields", !!f.change);
    wx.show("s-approve-label", !!f.approve);
    showChange();
    if (f.dept) {
      wx.$("s-dept").replaceChildren(...(view.whistle || []).map((d) => new Option(d.name, d.id)));
    }
    wx.show("s-form", true);
    text.focus();
  }

  // 延期 asks for working days, 挂起 for the day the clock may restart.
  function showChange() {
    const pause = wx.$("s-change").value === "pause";
    wx.show("s-days-label", !pause);
    wx.show("s-until-label", pause);
  }
  wx.$("s-change").addEventListener("change", showChange);

  function closeForm() {
    formStep = "";
    wx.$("s-form").reset();
    wx.show("s-form", false);
  }

  wx.$("s-actions").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-step]");
    if (!b) return;
    const s = b.dataset.step;
    if (forms[s]) openForm(s); else step(s);
  });
  wx.$("s-cancel").addEventListener("click", closeForm);
  wx.$("s-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!formStep) return;
    const f = new FormData(ev.target);
    const file = ev.target.photo.files[0];
    if (!forms[formStep].photo || !file) f.delete("photo");
    if (!forms[formStep].dept) f.delete("department");
    if (!forms[formStep].change) { f.delete("change"); f.delete("days"); f.delete("until"); }
    if (!forms[formStep].approve) f.delete("approve");
    step(formStep, f);
  });

  load();
})();
