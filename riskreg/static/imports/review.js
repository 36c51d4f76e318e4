/* Review of an import, by keyboard: j/k (or arrow down/up) move between rows, 1-5 choose a candidate,
   n create new, s skip, a the suggestion, Enter saves the row (the page comes back at the next row).
   Keys are ignored while typing in a field. Choosing a candidate (by key or click) shows that candidate's
   own field-by-field conflicts. No inline script (strict CSP). */
(function () {
  "use strict";

  function start() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-row]"));
    if (!rows.length) { return; }
    var current = 0;
    var fromHash = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
    if (fromHash && rows.indexOf(fromHash) >= 0) {
      current = Math.min(rows.indexOf(fromHash) + 1, rows.length - 1);
    }

    function focusRow(i) {
      current = Math.max(0, Math.min(i, rows.length - 1));
      rows.forEach(function (r, n) { r.classList.toggle("current", n === current); });
      rows[current].focus({ preventScroll: true });
      rows[current].scrollIntoView({ block: "nearest" });
    }

    // The field-by-field comparison shown is that of the chosen candidate (each candidate has its own,
    // rendered by the server); creating or skipping shows none. The chosen candidate's column is marked.
    function sync(row) {
      var checked = row.querySelector('input[name="choice"]:checked');
      var value = checked ? checked.value : "";
      row.querySelectorAll("[data-merge-into]").forEach(function (block) {
        block.hidden = block.getAttribute("data-merge-into") !== value;
      });
      row.querySelectorAll("[data-system]").forEach(function (cell) {
        cell.classList.toggle("chosen", "merge:" + cell.getAttribute("data-system") === value);
      });
    }

    function choose(selector) {
      var input = rows[current].querySelector(selector);
      if (input && !input.disabled) { input.checked = true; input.focus(); sync(rows[current]); }
      return input;
    }

    rows.forEach(function (r) {
      r.addEventListener("change", function (e) {
        if (e.target && e.target.name === "choice") { sync(r); }
      });
      sync(r);
    });

    rows.forEach(function (r, n) {
      r.addEventListener("focusin", function () {
        current = n;
        rows.forEach(function (x, m) { x.classList.toggle("current", m === n); });
      });
    });

    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) { return; }
      var t = e.target;
      var typing = t && (t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
        (t.tagName === "INPUT" && t.type !== "radio" && t.type !== "checkbox"));
      if (typing) { return; }
      var k = e.key;
      if (k === "j" || k === "ArrowDown" && t === rows[current]) { focusRow(current + 1); e.preventDefault(); }
      else if (k === "k" || k === "ArrowUp" && t === rows[current]) { focusRow(current - 1); e.preventDefault(); }
      else if (/^[1-9]$/.test(k)) { if (choose('input[data-key="' + k + '"]')) { e.preventDefault(); } }
      else if (k === "n") { choose('input[data-key="n"]'); e.preventDefault(); }
      else if (k === "s") { choose('input[data-key="s"]'); e.preventDefault(); }
      else if (k === "a") { choose("input[data-suggested]"); e.preventDefault(); }
      else if (k === "Enter" && (t === rows[current] || (t.type === "radio"))) {
        var form = rows[current].querySelector("form.decide");
        if (form && form.querySelector('input[name="choice"]:checked')) {
          e.preventDefault();
          if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        }
      }
    });
    focusRow(current);
  }

  if (document.readyState !== "loading") { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
