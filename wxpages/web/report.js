// The report form: a resident files a case without the chat.
"use strict";

(() => {
  let villages = [];
  let located = null;
  // One key per filling of the form: sending it again (a retry after a
  // lost answer) files nothing twice.
  const key = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

  async function load() {
    try {
      const d = await wx.api("/wx/api/directory");
      wx.text("title", d.town + " · 我要反映");
      const cat = wx.$("category");
      cat.replaceChildren(new Option("请选择", ""), ...d.categories.map((c) => new Option(c.name, c.id)));
      villages = d.villages;
      wx.$("village").replaceChildren(new Option("请选择", ""), ...villages.map((v) => new Option(v.name, v.id)));
      // Bound staff may file what they found on patrol (主动发现).
      wx.show("patrol-row", !!d.patrol);
      wx.show("report", true);
    } catch (e) {
      wx.error(e.message);
    }
  }

  wx.$("village").addEventListener("change", (ev) => {
    const v = villages.find((x) => x.id === ev.target.value);
    wx.$("grid").replaceChildren(new Option("请选择", ""), ...(v ? v.grids.map((g) => new Option(g.name, g.id)) : []));
  });

  wx.$("patrol").addEventListener("change", (ev) => {
    wx.show("phone-row", !ev.target.checked);
    wx.text("title", ev.target.checked ? "主动发现上报" : "我要反映");
  });

  wx.$("locate").addEventListener("click", () => {
    if (!navigator.geolocation) {
      wx.error("这部手机不能定位，请选择村（社区）和网格。");
      return;
    }
    wx.text("located", "正在定位…");
    wx.show("located", true);
    navigator.geolocation.getCurrentPosition((pos) => {
      located = { lat: pos.coords.latitude, lng: pos.coords.longitude };
      wx.text("located", "已定位（纬度 " + located.lat.toFixed(5) + "，经度 " + located.lng.toFixed(5) + "）");
    }, () => {
      located = null;
      wx.text("located", "没有拿到位置，请选择村（社区）和网格。");
    }, { enableHighAccuracy: true, timeout: 15000 });
  });

  wx.$("report").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    if (form.photo.files.length > 3) { wx.error("最多3张照片。"); return; }
    const f = new FormData(form);
    if (form.photo.files.length === 0) f.delete("photo");
    f.append("key", key);
    if (located) {
      f.append("lat", String(located.lat));
      f.append("lng", String(located.lng));
    }
    await wx.busy(async () => {
      try {
        const r = await wx.api("/wx/api/report", f);
        wx.error("");
        wx.show("report", false);
        wx.text("done-number", r.number);
        wx.$("done-link").href = r.url;
        wx.show("done", true);
      } catch (e) {
        wx.error(e.message);
      }
    });
  });

  load();
})();
