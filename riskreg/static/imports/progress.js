/* Import batch page: while the batch is busy (matching, applying, undoing), poll its progress and
   reload the page when the work is done. No inline script (strict CSP). */
(function () {
  "use strict";
  var BUSY = ["matching", "applying", "undoing"];

  function start() {
    var box = document.querySelector("[data-progress-url]");
    if (!box || BUSY.indexOf(box.getAttribute("data-status")) < 0) { return; }
    var url = box.getAttribute("data-progress-url");
    var bar = document.getElementById("import-progress");
    var text = document.getElementById("import-progress-text");
    var label = document.getElementById("import-status");
    var delay = 700;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p) { delay = Math.min(delay * 2, 10000); window.setTimeout(poll, delay); return; }
          if (bar) { bar.max = p.total || 1; bar.value = p.done || 0; }
          if (text) { text.textContent = (p.done || 0) + " / " + (p.total || 0); }
          if (label) { label.textContent = p.label; }
          if (BUSY.indexOf(p.status) < 0) { window.location.reload(); return; }
          window.setTimeout(poll, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 10000); window.setTimeout(poll, delay); });
    }
    window.setTimeout(poll, delay);
  }

  if (document.readyState !== "loading") { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
