// The office console's one script: keeps live parts of a page current by short polling.
// Pages work without it (plain links and forms); with it, an element such as
//   <div data-poll="/api/v1/alerts/stamp" data-fragment="/alerts/list" data-stamp="…">
// is refreshed in place whenever the stamp the server answers changes. A part someone is
// typing in is left alone until they are done, so a note is never lost to a refresh.
"use strict";

(function () {
  const EVERY_MS = 2000;

  function busy(part) {
    const active = document.activeElement;
    if (active && part.contains(active) && active.matches("input, textarea, select")) {
      return true;
    }
    return Array.from(part.querySelectorAll("input[type=text], textarea")).some(
      (field) => field.value.trim() !== ""
    );
  }

  async function refresh(part) {
    const answer = await fetch(part.dataset.poll, {
      credentials: "same-origin",
      cache: "no-store",
    });
    if (answer.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      return;
    }
    if (!answer.ok) {
      part.dataset.live = "error";
      return;
    }
    const { stamp } = await answer.json();
    part.dataset.live = "ok";
    if (String(stamp) === part.dataset.stamp || busy(part)) {
      return;
    }
    const fragment = await fetch(part.dataset.fragment + window.location.search, {
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!fragment.ok) {
      return;
    }
    const seen = new Set(
      Array.from(part.querySelectorAll("[data-id]")).map((item) => item.dataset.id)
    );
    part.innerHTML = await fragment.text();
    part.dataset.stamp = String(stamp);
    part.querySelectorAll("[data-id]").forEach((item) => {
      if (!seen.has(item.dataset.id)) {
        item.classList.add("fresh");
      }
    });
  }

  function watch(part) {
    let running = false;
    window.setInterval(async () => {
      if (running || document.hidden) {
        return;
      }
      running = true;
      try {
        await refresh(part);
      } catch (error) {
        part.dataset.live = "error";
      } finally {
        running = false;
      }
    }, Number(part.dataset.every || EVERY_MS));
  }

  document.querySelectorAll("[data-poll][data-fragment]").forEach(watch);
})();
