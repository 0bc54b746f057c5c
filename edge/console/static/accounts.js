// Accounts page: change one's own PIN; an admin disables, enables, removes accounts, resets a
// PIN and adds one. Posts JSON to /api/v1 (edge/console/routes/accounts.py); no inline script.
"use strict";
(function () {
  const { T } = window.kakou;  // words by message id, from console.js (loaded first)
  const $ = (sel, root) => (root || document).querySelector(sel);

  async function send(method, path, body) {
    const res = await fetch(path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401) location.href = "/login?next=" + encodeURIComponent(location.pathname);
    return { ok: res.ok, status: res.status, data };
  }

  // A refusal in the guard's words: the PIN rules by their code, else the API's own message.
  function problem(res) {
    const detail = res.data && res.data.detail;
    if (Array.isArray(detail) && detail.some((d) => d.type === "kakou.weak_secret")) return T("js.accounts.weak");
    if (res.status === 403) return T("js.accounts.wrong_old");
    if (res.status === 429) return T("js.signin.too_many");
    return T("js.accounts.refused") + (typeof detail === "string" ? detail : res.status);
  }

  const own = $("#own-secret-form");
  if (own) own.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const error = $("#own-secret-error");
    if (own.new.value !== own.again.value) { error.textContent = T("js.accounts.mismatch"); return; }
    const res = await send("POST", "/api/v1/auth/secret", { old: own.old.value, new: own.new.value });
    error.textContent = res.ok ? "" : problem(res);
    if (res.ok) { own.reset(); error.textContent = T("js.accounts.changed"); error.classList.add("done"); }
  });

  const table = $("#accounts");
  const resetForm = $("#reset-form");
  let resetting = null;
  if (table) table.addEventListener("click", async (ev) => {
    const button = ev.target.closest("button[data-do]");
    if (!button) return;
    const row = button.closest("tr");
    const id = row.dataset.guard, name = row.dataset.name;
    const path = "/api/v1/guards/" + encodeURIComponent(id);
    const what = button.dataset.do;
    if (what === "reset") {
      resetting = id;
      $("#reset-label").textContent = T("js.accounts.new_secret_for", { name });
      resetForm.hidden = false;
      resetForm.secret.focus();
      return;
    }
    if (what === "remove" && !confirm(T("js.accounts.confirm_remove", { name }))) return;
    if (what === "disable" && !confirm(T("js.accounts.confirm_disable", { name }))) return;
    const res = what === "remove" ? await send("DELETE", path) : await send("POST", path + "/" + what);
    if (res.ok) location.reload();
    else $("#accounts-error").textContent = problem(res);
  });
  if (resetForm) resetForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await send("POST", "/api/v1/guards/" + encodeURIComponent(resetting) + "/secret",
      { secret: resetForm.secret.value });
    if (res.ok) { resetForm.reset(); resetForm.hidden = true; $("#accounts-error").textContent = T("js.accounts.done"); }
    else $("#accounts-error").textContent = problem(res);
  });

  const add = $("#add-account-form");
  if (add) add.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await send("POST", "/api/v1/guards",
      { name: add.elements["name"].value, role: add.elements["role"].value, secret: add.elements["secret"].value });
    if (res.ok) location.reload();
    else $("#add-account-error").textContent = problem(res);
  });
})();
