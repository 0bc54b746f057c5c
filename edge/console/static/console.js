// Kakou console: live lane view, guard actions, alarms, kiosk. Plain JS, no build step, no CDN.
"use strict";
(function () {
  const lang = document.documentElement.lang === "en" ? "en" : "zh";
  const T = (zh, en) => (lang === "en" ? en : zh);
  const $ = (sel, root) => (root || document).querySelector(sel);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  async function api(path, body) {
    const res = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 && !path.startsWith("/api/v1/auth/")) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
    return { ok: res.ok, status: res.status, data };
  }

  function toast(text, kind) {
    let box = $("#toast");
    if (!box) { box = document.createElement("div"); box.id = "toast"; document.body.appendChild(box); }
    box.className = "toast " + (kind || "");
    box.textContent = text;
    clearTimeout(box._t); box._t = setTimeout(() => { box.className = "toast hidden"; }, 4000);
  }

  // ---------------------------------------------------------------- header
  // Sunlight mode: black on white reads best outdoors at noon; remembered on this device.
  const THEME_KEY = "kakou_theme";
  const sunny = () => localStorage.getItem(THEME_KEY) === "sun";
  document.documentElement.classList.toggle("sun", sunny());
  const theme = $("#theme-switch");
  if (theme) theme.addEventListener("click", () => {
    localStorage.setItem(THEME_KEY, sunny() ? "dark" : "sun");
    document.documentElement.classList.toggle("sun", sunny());
  });
  // The language link comes back to this very page, its search included.
  const sw = $("#lang-switch");
  if (sw) sw.href = "/lang/" + (lang === "en" ? "zh" : "en") + "?next=" + encodeURIComponent(location.pathname + location.search);
  const out = $("#sign-out");
  if (out) out.addEventListener("click", async () => { await api("/api/v1/auth/sign-out"); location.href = "/login"; });

  // ---------------------------------------------------------------- sign-in
  const signIn = $("#sign-in-form");
  if (signIn) signIn.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await api("/api/v1/auth/sign-in", { name: $("#name").value, secret: $("#secret").value });
    if (res.ok) {
      location.href = signIn.dataset.next || "/";  // the server checked it is a local path
    } else {
      $("#sign-in-error").textContent = res.status === 429
        ? T("失败次数过多，请稍后再试", "Too many failures; try again later")
        : res.status === 503 ? T("系统繁忙，请稍后再试", "Busy; try again in a moment")
        : T("姓名或密码错误", "Wrong name or PIN");
    }
  });

  // ---------------------------------------------------------------- alarm sound
  let audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35, 0.7].forEach((at) => {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = "square"; osc.frequency.value = 880;
        gain.gain.value = 0.2;
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + at); osc.stop(audio.currentTime + at + 0.2);
      });
      window.kakouBeeps = (window.kakouBeeps || 0) + 1;
    } catch (e) { /* no audio device: the banner still shows */ }
  }
  const heard = new Set();

  // ---------------------------------------------------------------- alarm board
  // Acknowledging opens a form in the banner: the kind's quick picks fill the note, which a
  // fever needs (the server says so in note_required, and refuses an empty one). The board is
  // updated in place, never redrawn, so a form being filled survives the stream's refreshes.
  const alarmLine = (a) => `<b>${esc(T(a.text_zh, a.text_en))}</b>
    ${a.lane ? "· " + T("通道", "lane") + " " + esc(a.lane) : "· " + T("全站", "whole gate")}
    ${a.detail ? "· " + esc(a.detail) : ""}`;

  function alarmElement(a) {
    const el = document.createElement("div");
    el.className = "alarm " + a.kind;
    el.dataset.alarm = a.id;
    el.dataset.noteRequired = a.note_required ? "yes" : "";
    el.setAttribute("role", "alert");
    // The picks are written in Chinese, the ledger's language; the English console explains them.
    const picks = (a.quick_notes || []).map(([zh, en]) => `<button type="button" class="big quick-note"
      data-note="${esc(zh)}">${esc(zh)}${T("", `<small>${esc(en)}</small>`)}</button>`).join("");
    el.innerHTML = `<span class="alarm-text">${alarmLine(a)}
        <small class="alarm-at">${esc(new Date(a.raised_at).toLocaleTimeString())}</small></span>
      <button class="big ack">${T("已处置", "Acknowledge")}</button>
      <form class="ack-form">${picks ? `<div class="quick-notes">${picks}</div>` : ""}
        <label>${a.note_required ? T("处置情况（必填）", "What was done (required)") : T("处置情况（可不填）", "What was done (optional)")}
          <input name="note" maxlength="${Number(a.note_max_chars)}" autocomplete="off"></label>
        <p class="ack-error" aria-live="polite"></p>
        <div class="ack-buttons"><button class="big primary ack-send">${T("确认处置", "Confirm")}</button>
          <button type="button" class="big ack-cancel">${T("取消", "Cancel")}</button></div></form>`;
    return el;
  }

  function renderAlarms(alarms) {
    const box = $("#alarms");
    if (!box) return;
    const open = new Set(alarms.map((a) => a.id));
    let cleared = false;
    box.querySelectorAll(".alarm").forEach((el) => {
      if (!open.has(el.dataset.alarm)) { el.remove(); cleared = true; }
    });
    let before = null;  // new alarms go in the board's order; the ones showing are never moved
    alarms.forEach((a) => {
      let el = box.querySelector(`.alarm[data-alarm="${CSS.escape(a.id)}"]`);
      if (!el) { el = alarmElement(a); box.insertBefore(el, before ? before.nextSibling : box.firstChild); }
      before = el;
      if (!heard.has(a.id)) { heard.add(a.id); beep(); }
    });
    if (cleared) refreshHandled();  // another guard acknowledged one
  }

  // A quick pick adds its words to the note, or takes them out again; the guard may type more.
  const noteParts = (text) => text.split(/[；;]/).map((part) => part.trim()).filter(Boolean);
  function togglePick(input, words) {
    const parts = noteParts(input.value);
    const at = parts.indexOf(words);
    if (at >= 0) parts.splice(at, 1); else parts.push(words);
    input.value = parts.join("；");
  }
  function noteChanged(form) {  // the picks in the note show chosen; a refusal shown is stale
    const parts = noteParts(form.elements.note.value);
    form.querySelectorAll(".quick-note").forEach((b) => b.classList.toggle("chosen", parts.includes(b.dataset.note)));
    $(".ack-error", form).textContent = "";
  }

  // What is wrong with a note, by the type in the API's 422 (FastAPI's own, or the store's kakou.*).
  function noteProblem(type, input) {
    if (type === "kakou.note_required") return T("发热警报须写明处置情况，如已复测、已上报社区", "A fever needs a note of what was done: re-measured, reported…");
    if (type === "string_too_long" || type === "kakou.note_too_long") return T(`处置情况最多 ${input.maxLength} 字`, `At most ${input.maxLength} characters`);
    return "";
  }

  // ---------------------------------------------------------------- recently handled alarms
  // Below the lanes: what was done about the last alarms, and by whom (the next shift reads it).
  const HANDLED_SHOWN = 5;
  async function refreshHandled() {
    const lanesBox = $("#lanes");
    if (!lanesBox) return;
    const res = await fetch("/api/v1/alarms?include_acked=true", { credentials: "same-origin" });
    if (!res.ok) return;
    const handled = (await res.json()).filter((a) => a.acked_at)
      .sort((x, y) => Date.parse(y.acked_at) - Date.parse(x.acked_at)).slice(0, HANDLED_SHOWN);
    let box = $("#handled-alarms");
    if (!box) {
      box = document.createElement("section");
      box.id = "handled-alarms"; box.className = "card handled";
      lanesBox.insertAdjacentElement("afterend", box);
    }
    box.hidden = !handled.length;
    box.innerHTML = `<h2>${T("最近处置的警报", "Recently handled alarms")}</h2><ul>${handled.map((a) => `
      <li class="${esc(a.kind)}" data-alarm="${esc(a.id)}">${alarmLine(a)}
        <span class="ack-note">${a.ack_note ? esc(a.ack_note) : T("（未写处置情况）", "(no note)")}</span>
        <small>${esc(a.acked_by_name || a.acked_by)} · ${esc(new Date(a.acked_at).toLocaleString())}</small></li>`).join("")}</ul>`;
  }

  // ---------------------------------------------------------------- live lanes
  const STEPS = [["stop", "停", "Stop"], ["look", "看", "Look"], ["ask", "问", "Ask"],
    ["measure", "测", "Measure"], ["pass", "行", "Pass"]];
  const answers = {};

  function renderLane(root, lane) {
    const order = STEPS.map((s) => s[0]);
    const step = lane.step === "hold" ? "measure" : lane.step;
    const at = order.indexOf(step);
    root.querySelector(".steps").innerHTML = STEPS.map(([id, zh, en], i) => {
      const cls = i < at ? "done" : i === at ? "on" : "";
      const label = id === "measure" && lane.step === "hold" ? T("复测", "Re-measure") : T(zh, en);
      return `<li class="${cls}" data-step="${id}"><span class="n">${i + 1}</span>${esc(label)}</li>`;
    }).join("");
    const v = lane.visit;
    const temps = (v && v.temperatures_c) || [];
    root.querySelector(".visit").innerHTML = v ? `
      <dl><dt>${T("持证人", "Holder")}</dt><dd class="holder">${esc(v.holder || "—")}</dd>
      <dt>${T("类别", "Kind")}</dt><dd class="kind">${esc(T(v.kind_zh || v.kind || "—", v.kind_en || v.kind || "—"))}</dd>
      <dt>${T("住户", "Household")}</dt><dd class="household">${esc(v.household || "—")}</dd>
      ${v.plate ? `<dt>${T("车牌", "Plate")}</dt><dd class="vehicle">${esc(v.plate)}</dd>
      <dt>${T("已测/人数", "Measured")}</dt><dd class="occupant-count" data-count="${Number(v.occupants) || 1}">
        <span class="occupants">${Number(v.occupants_cleared) || 0}/${Number(v.occupants) || 1}</span>
        <button class="big occupants-less" aria-label="${T("减少一人", "One fewer")}">−</button>
        <button class="big occupants-more" aria-label="${T("增加一人", "One more")}">＋</button></dd>` : ""}
      <dt>${T("体温", "Temperature")}</dt><dd class="temps">${temps.map((c) =>
        `<span class="temp ${c >= lane.fever_threshold_c ? "hot" : ""}">${c.toFixed(1)}°C</span>`).join(" ") || "—"}</dd></dl>`
      : `<p class="idle">${T("等待扫码", "Waiting for a pass")} · ${esc(({normal: T("正常", "normal"), lockdown: T("封控", "lockdown"), emergency: T("紧急放行", "emergency")})[lane.mode] || lane.mode)}</p>`;
    const last = lane.last_entry;
    root.querySelector(".verdict").innerHTML = last && !v ? `
      <div class="outcome ${esc(last.outcome)}"><b>${esc(T(last.outcome_zh, last.outcome_en))}</b>
      ${esc(last.holder || "")} ${esc(last.household || "")}
      ${(last.temperatures || []).map((x) => esc(x.body_c.toFixed(1)) + "°C").join(" ")}
      <ul class="reasons">${(T(last.reasons_zh, last.reasons_en) || []).map((r) => `<li>${esc(r)}</li>`).join("")}</ul></div>` : "";
    const qbox = root.querySelector(".questions");
    if (lane.step === "ask" && lane.questions.length) {
      const mine = answers[lane.lane] || (answers[lane.lane] = {});
      qbox.innerHTML = lane.questions.map((q) => `
        <div class="question" data-q="${esc(q.id)}"><p>${esc(T(q.text_zh, q.text_en))}</p>
        ${q.choices.map((c) => `<button class="big choice ${mine[q.id] === c ? "chosen" : ""}" data-choice="${esc(c)}">${
          esc(c === "yes" ? T("是", "Yes") : c === "no" ? T("否", "No") : c)}</button>`).join("")}</div>`).join("")
        + `<button class="big primary send-answers">${T("提交回答", "Submit answers")}</button>`;
    } else {
      qbox.innerHTML = "";
      delete answers[lane.lane];
    }
  }

  function render(state) {
    renderAlarms(state.alarms || []);
    const duty = $("#duty-list");
    if (duty) duty.innerHTML = T("当班：", "On duty: ") + (state.on_duty.length
      ? state.on_duty.map((g) => `<b>${esc(g.name)}</b> ${T("自", "since")} ${esc(new Date(g.since).toLocaleTimeString())}`).join("，")
      : T("无人接班", "nobody"));
    (state.lanes || []).forEach((lane) => {
      const root = document.querySelector(`.lane[data-lane="${CSS.escape(lane.lane)}"]`);
      if (root) renderLane(root, lane);
      renderKiosk(lane);
    });
    document.body.dataset.updated = String(Date.now());
  }

  const lanes = $("#lanes");
  if (lanes) {
    lanes.addEventListener("click", async (ev) => {
      const root = ev.target.closest(".lane");
      if (!root) return;
      const id = root.dataset.lane;
      if (ev.target.matches(".choice")) {
        const q = ev.target.closest(".question").dataset.q;
        (answers[id] = answers[id] || {})[q] = ev.target.dataset.choice;
        ev.target.parentElement.querySelectorAll(".choice").forEach((b) => b.classList.toggle("chosen", b === ev.target));
      } else if (ev.target.matches(".send-answers")) {
        const res = await api(`/api/v1/lanes/${encodeURIComponent(id)}/answers`, { answers: answers[id] || {} });
        if (!res.ok || !res.data.accepted) toast(T("回答未被接受：", "Answers refused: ") + ((res.data && (res.data.rejected_detail || res.data.rejected_code)) || res.status), "bad");
      } else if (ev.target.matches(".occupants-more, .occupants-less")) {
        // A vehicle: the guard counts who is inside; each of them is measured.
        const now = Number(ev.target.closest(".occupant-count").dataset.count) || 1;
        const count = now + (ev.target.matches(".occupants-more") ? 1 : -1);
        const res = await api(`/api/v1/lanes/${encodeURIComponent(id)}/occupants`, { count });
        if (!res.ok || !res.data.accepted) toast(T("人数未更改：", "Count not changed: ") + ((res.data && (res.data.rejected_detail || res.data.rejected_code)) || res.status), "bad");
      } else if (ev.target.matches(".cancel")) {
        await api(`/api/v1/lanes/${encodeURIComponent(id)}/cancel`, {});
      }
    });
    lanes.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const root = ev.target.closest(".lane");
      const id = encodeURIComponent(root.dataset.lane);
      if (ev.target.matches(".manual")) {
        const value = parseFloat(ev.target.body_c.value);
        if (!(value >= 30 && value <= 45)) { toast(T("请输入 30–45 之间的体温", "Enter 30–45 °C"), "bad"); return; }
        const res = await api(`/api/v1/lanes/${id}/manual-reading`, { body_c: value });
        if (res.ok) { ev.target.reset(); toast(T("体温已提交", "Reading sent"), "good"); }
      } else if (ev.target.matches(".override")) {
        const reason = ev.target.reason.value.trim();
        if (!reason) { toast(T("人工放行必须填写原因", "An override needs a written reason"), "bad"); ev.target.reason.focus(); return; }
        const res = await api(`/api/v1/lanes/${id}/override`, { reason });
        if (res.ok && res.data.accepted) { ev.target.reset(); toast(T("已人工放行", "Overridden"), "good"); }
        else toast(T("无法放行：", "Override refused: ") + ((res.data && (res.data.rejected_detail || res.data.rejected_code)) || res.status), "bad");
      }
    });
    const take = $("#take-duty");
    if (take) take.addEventListener("click", async () => {
      const res = await api("/api/v1/duty/take", { note: "" });
      if (res.ok) toast(T("已接班", "You are on duty"), "good");
    });
  }
  const alarmBox = $("#alarms");
  if (alarmBox) {
    alarmBox.addEventListener("click", (ev) => {
      const alarm = ev.target.closest(".alarm");
      if (!alarm) return;
      const form = $(".ack-form", alarm);
      const pick = ev.target.closest(".quick-note");
      if (ev.target.closest(".ack")) alarm.classList.add("acking");
      else if (ev.target.closest(".ack-cancel")) { alarm.classList.remove("acking"); form.reset(); noteChanged(form); }
      else if (pick) { togglePick(form.elements.note, pick.dataset.note); noteChanged(form); }
    });
    alarmBox.addEventListener("input", (ev) => { if (ev.target.form) noteChanged(ev.target.form); });
    alarmBox.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = ev.target, alarm = form.closest(".alarm"), input = form.elements.note;
      const error = $(".ack-error", form), send = $(".ack-send", form);
      const note = input.value.trim();
      if (alarm.dataset.noteRequired && !note) { error.textContent = noteProblem("kakou.note_required", input); return; }
      send.disabled = true;
      const res = await api(`/api/v1/alarms/${encodeURIComponent(alarm.dataset.alarm)}/ack`, { note });
      send.disabled = false;
      const refused = res.data && Array.isArray(res.data.detail) ? res.data.detail[0] : null;
      if (res.ok) { alarm.remove(); refreshHandled(); }
      else if (res.status === 503) toast(T("存储故障，暂不能记录处置", "The store cannot log it now"), "bad");
      else error.textContent = noteProblem(refused && refused.type, input)
        || T("未能记录处置：", "Not acknowledged: ") + ((refused && refused.msg) || res.status);
    });
    refreshHandled();
  }

  // ---------------------------------------------------------------- simulation panel
  const simForm = $("#sim-form");
  if (simForm) simForm.addEventListener("submit", async (ev) => {
    ev.preventDefault(); await api("/api/v1/sim/present", { text: simForm.text.value });
  });
  document.querySelectorAll(".sim-sample").forEach((button) => button.addEventListener("click", async () => {
    const res = await api("/api/v1/sim/sample", { case: button.dataset.case });
    if (res.ok) toast(T("已扫描 ", "Scanned ") + res.data.pass_id, "good");
  }));
  const simCrowd = $("#sim-crowd");
  if (simCrowd) simCrowd.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const count = parseInt(simCrowd.count.value, 10) || 50;
    const res = await api("/api/v1/sim/crowd", { count, seed: count });  // the same crowd for the same size
    const line = $("#sim-crowd-status");
    if (!res.ok) { line.textContent = T("无法开始：", "Not started: ") + res.status; return; }
    const id = encodeURIComponent(res.data.id);
    const poll = async () => {
      const r = await fetch(`/api/v1/sim/crowd/${id}`, { credentials: "same-origin" });
      if (!r.ok) return;
      const c = await r.json();
      line.textContent = T(`人流 ${c.recorded}/${c.total} 已记录，${c.matched} 符合预期`, `Crowd: ${c.recorded}/${c.total} recorded, ${c.matched} as expected`)
        + (c.mismatches.length ? T(`，${c.mismatches.length} 不符`, `, ${c.mismatches.length} mismatched`) : "")
        + (c.state === "running" ? "…" : c.state === "done" ? T(" ✔ 完成", " ✔ done") : " ✘ " + (c.error || c.state));
      line.dataset.state = c.state;
      if (c.state === "running") setTimeout(poll, 1000);
    };
    poll();
  });
  const simTemp = $("#sim-temp");
  if (simTemp) simTemp.addEventListener("submit", async (ev) => {
    ev.preventDefault(); await api("/api/v1/sim/temperature", { values_c: [parseFloat(simTemp.value.value)] });
  });

  // ---------------------------------------------------------------- kiosk
  const kiosk = $("#kiosk");
  function renderKiosk(lane) {
    if (!kiosk || kiosk.dataset.lane !== lane.lane) return;
    let zh = "请出示通行证", en = "Please show your pass", detail = "", cls = "";
    const last = lane.last_entry;
    if (lane.step === "look" || lane.step === "ask") { zh = "请稍候，工作人员核验中"; en = "Please wait, the guard is checking"; }
    else if (lane.step === "measure" && lane.visit && lane.visit.occupants > 1) {
      const next = Math.min((lane.visit.occupants_cleared || 0) + 1, lane.visit.occupants);
      zh = `请第 ${next} 位（共 ${lane.visit.occupants} 位）测量体温`; en = `Person ${next} of ${lane.visit.occupants}: please take your temperature`;
    }
    else if (lane.step === "measure") { zh = "请测量体温"; en = "Please take your temperature"; }
    else if (lane.step === "hold") { zh = "请稍候，需要复测体温"; en = "Please wait to be measured again"; cls = "warn"; }
    else if (last && Date.now() - Date.parse(last.recorded_at) < 8000) {
      if (last.outcome === "passed" || last.outcome === "overridden") { zh = "体温正常，请通行"; en = "Temperature normal, please pass"; cls = "good"; }
      else if (last.outcome === "fever") { zh = "体温异常，请在旁等候"; en = "Temperature high, please wait aside"; cls = "bad"; }
      else if (last.outcome === "denied") { zh = "禁止通行"; en = "Entry refused"; cls = "bad"; detail = (last.reasons_zh || []).join("；") + "<br><small>" + esc((last.reasons_en || []).join("; ")) + "</small>"; }
    }
    kiosk.className = cls;
    $("#kiosk-zh").textContent = zh; $("#kiosk-en").textContent = en;
    $("#kiosk-detail").innerHTML = detail.includes("<small>") ? esc(detail.split("<br>")[0]) + "<br>" + detail.split("<br>")[1] : "";
  }

  // ---------------------------------------------------------------- the stream
  // A signed-in guard streams; the kiosk (no session: the stream needs one) asks once a second.
  if (lanes) {
    const source = new EventSource("/api/v1/live/stream");
    source.onmessage = (msg) => render(JSON.parse(msg.data));
    source.onerror = () => { document.body.classList.add("offline"); };
    source.onopen = () => { document.body.classList.remove("offline"); };
  } else if (kiosk) {
    const poll = async () => {
      try {
        const res = await fetch("/api/v1/live/state", { credentials: "same-origin" });
        if (!res.ok) throw new Error(String(res.status));
        render(await res.json());
        document.body.classList.remove("offline");
      } catch (e) { document.body.classList.add("offline"); }
      setTimeout(poll, 1000);
    };
    poll();
  }
})();
