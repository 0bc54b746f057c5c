// The roster form: a file larger than the office accepts is refused here, with the page's own
// message, before it is sent (the server would refuse it with a bare 413).
"use strict";

(function () {
  const form = document.getElementById("roster-form");
  if (!form) {
    return;
  }
  const input = document.getElementById("roster-file");
  const warning = document.getElementById("roster-too-big");
  const limit = Number(form.dataset.maxBytes);

  function tooBig() {
    const file = input.files && input.files[0];
    return Boolean(file && file.size > limit);
  }

  input.addEventListener("change", () => {
    warning.hidden = !tooBig();
  });
  form.addEventListener("submit", (event) => {
    if (tooBig()) {
      event.preventDefault();
      warning.hidden = false;
    }
  });
})();
