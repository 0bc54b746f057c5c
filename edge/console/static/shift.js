// A guard's shift: the gate-mode banner kept current on every page, and the live view's
// gate-mode control (a written reason and a second look before the switch). Uses the helpers
// console.js hands over (window.kakou); no inline script, so the CSP holds.
"use strict";
(function () {
  const { T, api, toast } = window.kakou;
  const $ = (sel, root) => (root || document).querySelector(sel);

  // ---------------------------------------------------------------- the banner
  // The lanes' modes are open (GET /api/v1/lanes, as the kiosk reads them); when they differ
  // from what the banner shows, the server's own copy of it replaces it.
  const modesOf = (lanes) => lanes.filter((l) => l.mode !== "normal").map((l) => `${l.lane}:${l.mode}`).join(",");
  async function refreshBanner(lanes) {
    const banner = $("#mode-banner");
    if (!banner) return;
    if (!lanes) {
      const res = await fetch("/api/v1/lanes", { credentials: "same-origin" });
      if (!res.ok) return;
      lanes = await res.json();
    }
    document.querySelectorAll(".gate-mode").forEach((box) => {
      const lane = lanes.find((l) => l.lane === box.dataset.lane);
      if (lane && box.dataset.mode !== lane.mode) {
        box.dataset.mode = lane.mode;
        $(".mode-now b", box).textContent = T("mode." + lane.mode);
      }
    });
    if (modesOf(lanes) === banner.dataset.modes) return;
    const res = await fetch("/mode-banner", { credentials: "same-origin" });
    if (!res.ok) return;
    const fresh = document.createElement("div");
    fresh.innerHTML = await res.text();  // the server's template: every value escaped there
    const replacement = $("#mode-banner", fresh);
    if (replacement) banner.replaceWith(replacement);
  }
  if ($("#mode-banner") && !document.body.classList.contains("kiosk")) {
    setInterval(() => { refreshBanner().catch(() => {}); }, 5000);
  }

  // ---------------------------------------------------------------- the control
  document.querySelectorAll(".gate-mode").forEach((box) => {
    const form = $(".mode-form", box);
    const error = $(".mode-error", form);
    const close = () => { box.classList.remove("confirming"); form.hidden = true; form.reset(); error.textContent = ""; };
    box.addEventListener("click", (ev) => {
      const to = ev.target.closest(".mode-to");
      if (to) {
        form.dataset.to = to.dataset.to;
        box.classList.add("confirming");
        form.hidden = false;
        form.elements.reason.focus();
      } else if (ev.target.closest(".mode-back")) close();
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      ev.stopPropagation();  // the lane's own forms are console.js's
      const reason = form.elements.reason.value.trim();
      if (!reason) { error.textContent = T("js.mode.needs_reason"); form.elements.reason.focus(); return; }
      const send = $(".mode-send", form);
      send.disabled = true;
      const res = await api(`/api/v1/lanes/${encodeURIComponent(box.dataset.lane)}/mode`, { mode: form.dataset.to, reason });
      send.disabled = false;
      if (res.ok && res.data.accepted) {
        close();
        toast(T("js.mode.done"), "good");
        refreshBanner();
      } else {
        error.textContent = T("js.mode.refused") + ((res.data && (res.data.rejected_detail || res.data.rejected_code || res.data.detail)) || res.status);
      }
    });
  });
})();
