// Visitor and vehicle registration: posts the forms as JSON and puts each refused field's
// message next to that field, with the helpers console.js hands over (window.kakou). Plain JS,
// no build step, no CDN; no inline script (CSP).
"use strict";
(function () {
  const lang = document.documentElement.lang === "en" ? "en" : "zh";
  const { T, api } = window.kakou;  // console.js's words and poster, loaded first on every page
  const MESSAGES = JSON.parse(document.body.dataset.messages || "{}");  // the ids T knows
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function clearErrors(form) {
    $$(".field-error", form).forEach((el) => { el.textContent = ""; });
    $$("input.invalid", form).forEach((el) => el.classList.remove("invalid"));
  }

  // FastAPI's 422: detail = [{loc: ["body", "people", "0", "phone"], msg}] → the field's slot.
  function showErrors(form, data, fallback, toField) {
    const detail = data && Array.isArray(data.detail) ? data.detail : null;
    if (!detail) { fallback.textContent = (data && data.detail) || T("js.register.failed"); return; }
    const loose = [];
    detail.forEach((err) => {
      const name = toField((err.loc || []).slice(1).join("."));
      const slot = $(`.field-error[data-for="${CSS.escape(name)}"]`, form);
      if (slot) {
        slot.textContent = message(err);
        const input = $(`[name="${CSS.escape(name)}"]`, form);
        if (input) input.classList.add("invalid");
      } else loose.push(message(err));
    });
    fallback.textContent = loose.length ? loose.join("; ") : T("js.register.correct_marked");
  }

  // The desk's problem codes ("kakou.id_check") in the guard's language; FastAPI's own
  // (missing, too long) get one plain sentence.
  function message(err) {
    if (lang === "en") return String(err.msg || "").replace(/^Value error, /, "");
    const id = "js.problem." + String(err.type || "").replace(/^kakou\./, "");
    return T(MESSAGES[id] ? id : "js.problem.other");
  }

  const value = (form, name) => { const el = form.elements[name]; return el ? el.value.trim() : ""; };

  // A pass issued outside its kind's hours (e.g. a visitor at 21:22) is refused by the lane
  // until they begin: say so, and when it first works (gate time), before showing the pass.
  function warnHours(data) {
    const w = data && data.hours_warning;
    if (!w) return;
    const hours = " (" + w.hours.join(", ") + ")";
    if (w.first_usable_local) alert(T("js.register.outside_hours") + w.first_usable_local + hours);
    else alert(T("js.register.never_in_hours") + hours);
  }

  // ----------------------------------------------------------------- visitor
  const visitor = $("#visitor-form");
  if (visitor) visitor.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(visitor);
    const error = $("#visitor-error");
    error.textContent = "";
    const body = {
      name: value(visitor, "name"), phone: value(visitor, "phone"), id_number: value(visitor, "id_number"),
      host_household: value(visitor, "host_household"), reason: value(visitor, "reason"),
      hours: Number(value(visitor, "hours")), lane: value(visitor, "lane") || null,
      present: visitor.elements.present.checked,
    };
    const res = await api("/api/v1/visitors", body);
    if (res.status === 201) { warnHours(res.data); location.href = "/visitors/" + encodeURIComponent(res.data.registration.id); return; }
    // The desk names a visitor's own fields people.0.x; the form calls them x.
    showErrors(visitor, res.data, error, (name) => name.replace(/^people\.0\./, ""));
  });

  // ----------------------------------------------------------------- vehicle
  const vehicle = $("#vehicle-form");
  const occupants = $("#occupants");
  function renumber() {
    $$(".occupant", occupants).forEach((row, n) => {
      row.dataset.n = String(n);
      $$("input", row).forEach((input) => { input.name = input.name.replace(/^occupants\.\d+\./, `occupants.${n}.`); });
      $$(".field-error", row).forEach((slot) => { slot.dataset.for = slot.dataset.for.replace(/^occupants\.\d+\./, `occupants.${n}.`); });
      const phone = $('input[name$=".phone"]', row);
      if (phone) phone.required = n === 0;  // the driver's phone is required, passengers' not
    });
  }
  const add = $("#add-occupant");
  if (add) add.addEventListener("click", () => {
    const rows = $$(".occupant", occupants);
    if (rows.length >= 9) return;
    const copy = rows[0].cloneNode(true);
    $$("input", copy).forEach((input) => { input.value = ""; input.classList.remove("invalid"); });
    $$(".field-error", copy).forEach((slot) => { slot.textContent = ""; });
    const remove = document.createElement("button");
    remove.type = "button"; remove.className = "remove small"; remove.textContent = T("js.register.remove_person");
    remove.addEventListener("click", () => { copy.remove(); renumber(); });
    copy.appendChild(remove);
    occupants.appendChild(copy);
    renumber();
    $("input", copy).focus();
  });
  if (vehicle) vehicle.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(vehicle);
    const error = $("#vehicle-error");
    error.textContent = "";
    const people = $$(".occupant", occupants).map((row, n) => ({
      name: value(vehicle, `occupants.${n}.name`), phone: value(vehicle, `occupants.${n}.phone`),
      id_number: value(vehicle, `occupants.${n}.id_number`),
    }));
    const body = {
      plate: value(vehicle, "plate"), occupants: people,
      host_household: value(vehicle, "host_household"), reason: value(vehicle, "reason"),
      hours: Number(value(vehicle, "hours")), lane: value(vehicle, "lane") || null,
    };
    const res = await api("/api/v1/vehicles", body);
    if (res.status === 201) { warnHours(res.data); location.href = "/visitors/" + encodeURIComponent(res.data.registration.id); return; }
    // The desk calls occupants "people"; the API body calls them "occupants".
    showErrors(vehicle, res.data, error, (name) => name.replace(/^people\./, "occupants."));
  });

  // ----------------------------------------------------------------- one pass
  const card = $("#pass");
  const id = card ? encodeURIComponent(card.dataset.registration) : "";
  const print = $("#print-pass");
  if (print) print.addEventListener("click", () => window.print());
  const present = $("#present-form");
  if (present) present.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await api(`/api/v1/registrations/${id}/present`, { lane: present.elements.lane.value });
    if (res.ok && res.data.lane_accepted) location.href = "/";
    else alert(T("js.register.lane_refused") + ((res.data && (res.data.lane_rejected_code || res.data.detail)) || res.status));
  });
  const revoke = $("#revoke-form");
  if (revoke) revoke.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const reason = revoke.elements.reason.value.trim();
    if (!reason) { revoke.elements.reason.classList.add("invalid"); return; }
    if (!confirm(T("js.register.confirm_revoke"))) return;
    const res = await api(`/api/v1/registrations/${id}/revoke`, { reason });
    if (res.ok) location.reload();
  });
})();
