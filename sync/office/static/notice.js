// The daily notice's print button (a file of its own: the pages allow no inline script).
"use strict";
(function () {
  var button = document.getElementById("print");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
})();
