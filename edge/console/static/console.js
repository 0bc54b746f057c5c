// Kakou console: live lane view, guard actions, alarms, kiosk. Plain JS, no build step, no CDN.
"use strict";
(function () {
  const lang = document.documentElement.lang === "en" ? "en" : "zh";
  // Words by message id from the gate's one catalogue (edge/console/messages.py): each page
  // hands over the ids the scripts use, both languages, in <body data-messages>; "{name}" in a
  // text is filled from params. An id missing there shows as itself.
  const MESSAGES = JSON.parse(document.body.dataset.messages || "{}");
  const fill = (text, params) => text.replace(/\{(\w+)\}/g, (all, name) =>
    (params && name in params ? String(params[name]) : all));
  const both = (id, params) => (MESSAGES[id] || [id, id]).map((text) => fill(text, params));
  const T = (id, params) => both(id, params)[lang === "en" ? 1 : 0];
  // Texts the API sends in both languages (alarm texts, questions, reasons): this page's one.
  const pick = (zh, en) => (lang === "en" ? en : zh);
  // A stored code (a step, a mode) in words; an unknown one shows as itself.
  const term = (section, code) => (MESSAGES[section + "." + code] ? T(section + "." + code) : code);
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
  window.kakou = { T, api, toast };  // for the page scripts loaded after it

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
        ? T("js.signin.too_many")
        : res.status === 503 ? T("js.signin.busy")
        : T("js.signin.wrong");
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
  const alarmLine = (a) => `<b>${esc(pick(a.text_zh, a.text_en))}</b>
    ${a.lane ? "· " + T("js.lane") + " " + esc(a.lane) : "· " + T("js.whole_gate")}
    ${a.detail ? "· " + esc(pick(a.detail_zh || a.detail, a.detail_en || a.detail)) : ""}`;

  function alarmElement(a) {
    const el = document.createElement("div");
    el.className = "alarm " + a.kind;
    el.dataset.alarm = a.id;
    el.dataset.noteRequired = a.note_required ? "yes" : "";
    el.setAttribute("role", "alert");
    // The picks are written in Chinese, the ledger's language; the English console explains them.
    const picks = (a.quick_notes || []).map(([zh, en]) => `<button type="button" class="big quick-note"
      data-note="${esc(zh)}">${esc(zh)}${lang === "en" ? `<small>${esc(en)}</small>` : ""}</button>`).join("");
    el.innerHTML = `<span class="alarm-text">${alarmLine(a)}
        <small class="alarm-at">${esc(a.raised_at_local)}</small></span>
      <button class="big ack">${T("js.alarm.ack")}</button>
      <form class="ack-form">${picks ? `<div class="quick-notes">${picks}</div>` : ""}
        <label>${a.note_required ? T("js.alarm.note_required") : T("js.alarm.note_optional")}
          <input name="note" maxlength="${Number(a.note_max_chars)}" autocomplete="off"></label>
        <p class="ack-error" aria-live="polite"></p>
        <div class="ack-buttons"><button class="big primary ack-send">${T("js.alarm.confirm")}</button>
          <button type="button" class="big ack-cancel">${T("js.alarm.cancel")}</button></div></form>`;
    return el;
  }

  // Alarms of one lane and kind are a group: two or more get a heading with their count and
  // one note for them all; past GROUP_SHOWN the list folds until the guard opens it.
  const GROUP_SHOWN = 3;
  function groupElement(a, key) {
    const el = document.createElement("div");
    el.className = "alarm-group " + a.kind;
    el.dataset.group = key;
    el.dataset.noteRequired = a.note_required ? "yes" : "";
    const picks = (a.quick_notes || []).map(([zh, en]) => `<button type="button" class="big quick-note"
      data-note="${esc(zh)}">${esc(zh)}${lang === "en" ? `<small>${esc(en)}</small>` : ""}</button>`).join("");
    el.innerHTML = `<div class="group-head"><span class="group-text">${alarmLine({ ...a, detail: "" })}
        <b class="group-count"></b></span>
      <button type="button" class="big group-toggle">${T("js.alarm.show_list")}</button>
      <button type="button" class="big group-ack"></button></div>
      <form class="ack-form group-ack-form">${picks ? `<div class="quick-notes">${picks}</div>` : ""}
        <label><span class="group-note"></span>
          <input name="note" maxlength="${Number(a.note_max_chars)}" autocomplete="off"></label>
        <p class="ack-error" aria-live="polite"></p>
        <div class="ack-buttons"><button class="big primary ack-send">${T("js.alarm.confirm")}</button>
          <button type="button" class="big ack-cancel">${T("js.alarm.cancel")}</button></div></form>
      <div class="alarm-list"></div>`;
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
    const counts = {};  // per kind, for the board's summary
    alarms.forEach((a) => {  // new alarms go in the board's order; the ones showing never move
      const key = (a.lane || "") + "|" + a.kind;
      let group = box.querySelector(`.alarm-group[data-group="${CSS.escape(key)}"]`);
      if (!group) { group = groupElement(a, key); box.appendChild(group); }
      if (!box.querySelector(`.alarm[data-alarm="${CSS.escape(a.id)}"]`)) $(".alarm-list", group).appendChild(alarmElement(a));
      const name = pick(a.text_zh, a.text_en).split(/[：:]/)[0];  // the alarm's name, not what to do
      counts[name] = (counts[name] || 0) + 1;
      if (!heard.has(a.id)) { heard.add(a.id); beep(); }
    });
    box.querySelectorAll(".alarm-group").forEach((group) => {
      const n = group.querySelectorAll(".alarm").length;
      if (!n) { group.remove(); return; }
      group.classList.toggle("many", n > 1);
      group.classList.toggle("folded", n > GROUP_SHOWN);
      $(".group-count", group).textContent = T("js.alarm.count", { count: n });
      $(".group-ack", group).textContent = T("js.alarm.ack_group", { count: n });
      $(".group-note", group).textContent = T("js.alarm.group_note", { count: n });
    });
    const board = $("#alarm-board");
    if (board) {
      board.hidden = !alarms.length;
      $(".alarm-counts", board).innerHTML = Object.entries(counts).map(([name, n]) =>
        `<span class="alarm-count">${esc(name)} ${esc(T("js.alarm.count", { count: n }))}</span>`).join("");
    }
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
    if (type === "kakou.note_required") return T("js.alarm.fever_needs_note");
    if (type === "string_too_long" || type === "kakou.note_too_long") return T("js.alarm.note_too_long", { max: input.maxLength });
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
    box.innerHTML = `<h2>${T("js.alarm.handled")}</h2><ul>${handled.map((a) => `
      <li class="${esc(a.kind)}" data-alarm="${esc(a.id)}">${alarmLine(a)}
        <span class="ack-note">${a.ack_note ? esc(a.ack_note) : T("js.alarm.no_note")}</span>
        <small>${esc(a.acked_by_name || a.acked_by)} · ${esc(a.acked_at_local || "")}</small></li>`).join("")}</ul>`;
  }

  // ---------------------------------------------------------------- live lanes
  const STEPS = ["stop", "look", "ask", "measure", "pass"];
  const answers = {};

  function renderLane(root, lane) {
    const order = STEPS;
    const step = lane.step === "hold" ? "measure" : lane.step;
    const at = order.indexOf(step);
    root.querySelector(".steps").innerHTML = STEPS.map((id, i) => {
      const cls = i < at ? "done" : i === at ? "on" : "";
      const label = id === "measure" && lane.step === "hold" ? T("step.hold") : term("step", id);
      return `<li class="${cls}" data-step="${id}"><span class="n">${i + 1}</span>${esc(label)}</li>`;
    }).join("");
    const v = lane.visit;
    const temps = (v && v.temperatures_c) || [];
    const plausible = (v && v.temperatures_plausible) || [];
    root.querySelector(".visit").innerHTML = v ? `
      <dl><dt>${T("js.visit.holder")}</dt><dd class="holder">${esc(v.holder || "—")}</dd>
      <dt>${T("js.visit.kind")}</dt><dd class="kind">${esc(pick(v.kind_zh || v.kind || "—", v.kind_en || v.kind || "—"))}</dd>
      <dt>${T("js.visit.household")}</dt><dd class="household">${esc(v.household || "—")}</dd>
      ${v.plate ? `<dt>${T("js.visit.plate")}</dt><dd class="vehicle">${esc(v.plate)}</dd>
      <dt>${T("js.visit.measured")}</dt><dd class="occupant-count" data-count="${Number(v.occupants) || 1}">
        <span class="occupants">${Number(v.occupants_cleared) || 0}/${Number(v.occupants) || 1}</span>
        <button class="big occupants-less" aria-label="${T("js.visit.one_fewer")}">−</button>
        <button class="big occupants-more" aria-label="${T("js.visit.one_more")}">＋</button></dd>` : ""}
      <dt>${T("js.visit.temperature")}</dt><dd class="temps">${temps.map((c, i) =>
        tempSpan(c, plausible[i] !== false, lane.fever_threshold_c)).join(" ") || "—"}</dd></dl>`
      : `<p class="idle">${T("js.visit.waiting")} · ${esc(term("mode", lane.mode))}</p>`;
    const last = lane.last_entry;
    root.querySelector(".verdict").innerHTML = last && !v ? `
      <div class="outcome ${esc(last.outcome)}"><b>${esc(pick(last.outcome_zh, last.outcome_en))}</b>
      ${esc(last.holder || "")} ${esc(last.household || "")}
      ${(last.temperatures || []).map((x) => tempSpan(x.body_c, x.plausible !== false, Infinity)).join(" ")}
      <ul class="reasons">${(pick(last.reasons_zh, last.reasons_en) || []).map((r) => `<li>${esc(r)}</li>`).join("")}</ul></div>` : "";
    const qbox = root.querySelector(".questions");
    if (lane.step === "ask" && lane.questions.length) {
      const mine = answers[lane.lane] || (answers[lane.lane] = {});
      qbox.innerHTML = lane.questions.map((q) => `
        <div class="question" data-q="${esc(q.id)}"><p>${esc(pick(q.text_zh, q.text_en))}</p>
        ${q.choices.map((c) => `<button class="big choice ${mine[q.id] === c ? "chosen" : ""}" data-choice="${esc(c)}">${
          esc(c === "yes" ? T("js.answer.yes") : c === "no" ? T("js.answer.no") : c)}</button>`).join("")}</div>`).join("")
        + `<button class="big primary send-answers">${T("js.answers.send")}</button>`;
    } else {
      qbox.innerHTML = "";
      delete answers[lane.lane];
    }
  }

  function render(state) {
    renderAlarms(state.alarms || []);
    const duty = $("#duty-list");
    if (duty) duty.innerHTML = T("js.duty.on_duty") + (state.on_duty.length
      ? state.on_duty.map((g) => `<b>${esc(g.name)}</b> ${T("js.duty.since")} ${esc(new Date(g.since).toLocaleTimeString())}`).join(T("js.duty.separator"))
      : T("js.duty.nobody"));
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
        if (!res.ok || !res.data.accepted) toast(T("js.answers.refused") + ((res.data && (res.data.rejected_detail || res.data.rejected_code)) || res.status), "bad");
      } else if (ev.target.matches(".occupants-more, .occupants-less")) {
        // A vehicle: the guard counts who is inside; each of them is measured.
        const now = Number(ev.target.closest(".occupant-count").dataset.count) || 1;
        const count = now + (ev.target.matches(".occupants-more") ? 1 : -1);
        const res = await api(`/api/v1/lanes/${encodeURIComponent(id)}/occupants`, { count });
        if (!res.ok || !res.data.accepted) toast(T("js.occupants.refused") + ((res.data && (res.data.rejected_detail || res.data.rejected_code)) || res.status), "bad");
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
        if (!(value >= 30 && value <= 45)) { toast(T("js.reading.range"), "bad"); return; }
        const res = await api(`/api/v1/lanes/${id}/manual-reading`, { body_c: value });
        if (res.ok) { ev.target.reset(); toast(T("js.reading.sent"), "good"); }
      } else if (ev.target.matches(".override")) {
        const reason = ev.target.reason.value.trim();
        if (!reason) { toast(T("js.override.needs_reason"), "bad"); ev.target.reason.focus(); return; }
        const res = await api(`/api/v1/lanes/${id}/override`, { reason });
        if (res.ok && res.data.accepted) { ev.target.reset(); toast(T("js.override.done"), "good"); }
        else toast(T("js.override.refused") + ((res.data && (res.data.rejected_detail || res.data.rejected_code)) || res.status), "bad");
      }
    });
    const take = $("#take-duty");
    if (take) take.addEventListener("click", async () => {
      const res = await api("/api/v1/duty/take", { note: "" });
      if (res.ok) toast(T("js.duty.taken"), "good");
    });
  }
  const alarmBox = $("#alarms");
  if (alarmBox) {
    alarmBox.addEventListener("click", (ev) => {
      const alarm = ev.target.closest(".alarm") || ev.target.closest(".alarm-group");
      if (!alarm) return;
      if (ev.target.closest(".group-toggle")) { alarm.classList.toggle("expanded"); return; }
      if (ev.target.closest(".group-ack")) { alarm.classList.add("acking"); return; }
      const form = $(".ack-form", alarm);
      const pick = ev.target.closest(".quick-note");
      if (ev.target.closest(".ack")) alarm.classList.add("acking");
      else if (ev.target.closest(".ack-cancel")) { alarm.classList.remove("acking"); form.reset(); noteChanged(form); }
      else if (pick) { togglePick(form.elements.note, pick.dataset.note); noteChanged(form); }
    });
    alarmBox.addEventListener("input", (ev) => { if (ev.target.form) noteChanged(ev.target.form); });
    alarmBox.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = ev.target, input = form.elements.note;
      const group = form.matches(".group-ack-form"), alarm = form.closest(group ? ".alarm-group" : ".alarm");
      const error = $(".ack-error", form), send = $(".ack-send", form);
      const note = input.value.trim();
      if (alarm.dataset.noteRequired && !note) { error.textContent = noteProblem("kakou.note_required", input); return; }
      send.disabled = true;
      // A group: exactly the alarms this guard sees in it, one note for each.
      const ids = [...alarm.querySelectorAll(".alarm")].map((el) => el.dataset.alarm);
      const res = group ? await api("/api/v1/alarms/ack", { ids, note })
        : await api(`/api/v1/alarms/${encodeURIComponent(alarm.dataset.alarm)}/ack`, { note });
      send.disabled = false;
      const refused = res.data && Array.isArray(res.data.detail) ? res.data.detail[0] : null;
      if (res.ok && group) {
        res.data.forEach((a) => { const el = alarm.querySelector(`.alarm[data-alarm="${CSS.escape(a.id)}"]`); if (el) el.remove(); });
        alarm.classList.remove("acking"); form.reset(); noteChanged(form);
        toast(T("js.alarm.group_done", { count: res.data.length }), "good");
        refreshHandled();
      } else if (res.ok) { alarm.remove(); refreshHandled(); }
      else if (res.status === 503) toast(T("js.alarm.store_down"), "bad");
      else error.textContent = noteProblem(refused && refused.type, input)
        || T("js.alarm.not_acked") + ((refused && refused.msg) || res.status);
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
    if (res.ok) toast(T("js.sim.scanned") + res.data.pass_id, "good");
  }));
  const simCrowd = $("#sim-crowd");
  if (simCrowd) simCrowd.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const count = parseInt(simCrowd.count.value, 10) || 50;
    const res = await api("/api/v1/sim/crowd", { count, seed: count });  // the same crowd for the same size
    const line = $("#sim-crowd-status");
    if (!res.ok) { line.textContent = T("js.sim.not_started") + res.status; return; }
    const id = encodeURIComponent(res.data.id);
    const poll = async () => {
      const r = await fetch(`/api/v1/sim/crowd/${id}`, { credentials: "same-origin" });
      if (!r.ok) return;
      const c = await r.json();
      line.textContent = T("js.sim.crowd", c)
        + (c.mismatches.length ? T("js.sim.mismatched", { count: c.mismatches.length }) : "")
        + (c.state === "running" ? "…" : c.state === "done" ? T("js.sim.done") : " ✘ " + (c.error || c.state));
      line.dataset.state = c.state;
      if (c.state === "running") setTimeout(poll, 1000);
    };
    poll();
  });
  const simTemp = $("#sim-temp");
  if (simTemp) simTemp.addEventListener("submit", async (ev) => {
    ev.preventDefault(); await api("/api/v1/sim/temperature", { values_c: [parseFloat(simTemp.value.value)] });
  });

  // A reading that cannot be a body temperature (a cold sky, a hot wall) is shown as measured,
  // marked and explained, never as if it were someone's temperature.
  function tempSpan(c, plausible, feverC) {
    const cls = !plausible ? "implausible" : (c >= feverC ? "hot" : "");
    const mark = plausible ? "" : `<abbr title="${esc(T("js.reading.implausible"))}">?</abbr>`;
    return `<span class="temp ${cls}">${esc(c.toFixed(1))}°C${mark}</span>`;
  }

  // ---------------------------------------------------------------- kiosk
  const kiosk = $("#kiosk");
  function renderKiosk(lane) {
    if (!kiosk || kiosk.dataset.lane !== lane.lane) return;
    let say = "js.kiosk.show_pass", params = null, detail = "", cls = "";
    const last = lane.last_entry;
    if (lane.step === "look" || lane.step === "ask") say = "js.kiosk.checking";
    else if (lane.step === "measure" && lane.visit && lane.visit.occupants > 1) {
      const next = Math.min((lane.visit.occupants_cleared || 0) + 1, lane.visit.occupants);
      say = "js.kiosk.person_of"; params = { next, count: lane.visit.occupants };
    }
    else if (lane.step === "measure") say = "js.kiosk.measure";
    else if (lane.step === "hold") { say = "js.kiosk.remeasure"; cls = "warn"; }
    else if (last && Date.now() - Date.parse(last.recorded_at) < 8000) {
      if (last.outcome === "passed" || last.outcome === "overridden") {
        // "Temperature normal" only where it was measured and normal: not at an exit, not an override.
        const measured = last.outcome === "passed" && (last.temperatures || []).length > 0;
        say = measured ? "js.kiosk.passed" : "js.kiosk.pass"; cls = "good";
      }
      else if (last.outcome === "fever") { say = "js.kiosk.fever"; cls = "bad"; }
      else if (last.outcome === "denied") {
        say = "js.kiosk.denied"; cls = "bad";
        detail = esc((last.reasons_zh || []).join("；")) + "<br><small>" + esc((last.reasons_en || []).join("; ")) + "</small>";
      }
    }
    // Residents read Chinese or English: the kiosk shows both, Chinese above.
    const [zh, en] = both(say, params);
    kiosk.className = cls;
    $("#kiosk-zh").textContent = zh; $("#kiosk-en").textContent = en;
    $("#kiosk-detail").innerHTML = detail;
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
