/* Import batch page: while the batch is busy (matching, applying, undoing), poll its progress and
   load the page anew when the work is done. No inline script (strict CSP).
   No figures yet (done = 0) shows an indeterminate bar and "working", never a frozen 0 %: on SQLite the
   progress cannot be written while apply or undo holds the write lock, so it stays 0 until the end. */
(function () {
  "use strict";
  var BUSY = ["matching", "applying", "undoing"];

  function start() {
    var box = document.querySelector("[data-progress-url]");
    if (!box || BUSY.indexOf(box.getAttribute("data-status")) < 0) { return; }
    var url = box.getAttribute("data-progress-url");
    var page = box.getAttribute("data-batch-url") || window.location.pathname;
    // Apply and undo answer with this page itself (not a redirect): the address becomes the batch's, so that
    // reloading asks for the page again rather than posting the form anew.
    if (window.location.pathname !== page && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", page);
    }
    var ofRows = box.getAttribute("data-of") || "{done} / {total}";
    var working = box.getAttribute("data-working") || "…";
    var bar = document.getElementById("import-progress");
    var text = document.getElementById("import-progress-text");
    var label = document.getElementById("import-status");
    var delay = 700;

    function show(done, total) {
      var known = done > 0 && total > 0;
      if (bar) {
        if (known) { bar.max = total; bar.value = Math.min(done, total); } else { bar.removeAttribute("value"); }
        bar.classList.toggle("working", !known);
      }
      if (text) {
        text.textContent = known ? ofRows.replace("{done}", String(done)).replace("{total}", String(total)) : working;
      }
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p) { delay = Math.min(delay * 2, 10000); window.setTimeout(poll, delay); return; }
          show(p.done || 0, p.total || 0);
          if (label) { label.textContent = p.label; }
          if (BUSY.indexOf(p.status) < 0) { window.location.replace(page); return; }
          window.setTimeout(poll, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 10000); window.setTimeout(poll, delay); });
    }
    window.setTimeout(poll, delay);
  }

  if (document.readyState !== "loading") { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
