/* Approval pages: progressive enhancement only (every page works without it; strict CSP, no inline script).
   - the decision form shows the risk and condition sections that fit the chosen decision, and adds rows;
   - a batch print's page follows the job's progress and offers the download when it is done. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function decisionForm(form) {
    var radios = form.querySelectorAll("input[name='decision']");
    var parts = form.querySelectorAll("[data-show-for]");
    function update() {
      var chosen = "";
      radios.forEach(function (r) { if (r.checked) { chosen = r.value; } });
      parts.forEach(function (part) {
        var wanted = part.getAttribute("data-show-for").split(" ");
        part.hidden = chosen !== "" && wanted.indexOf(chosen) < 0;
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();

    var add = form.querySelector(".add-condition");
    var list = form.querySelector(".condition-rows");
    if (add && list) {
      add.hidden = false;
      add.addEventListener("click", function () {
        var rows = list.querySelectorAll(".condition-row");
        var last = rows[rows.length - 1];
        var next = rows.length;
        var copy = last.cloneNode(true);
        copy.querySelectorAll("[id], [name], [for], [aria-describedby]").forEach(function (el) {
          ["id", "name", "for", "aria-describedby"].forEach(function (attr) {
            var v = el.getAttribute(attr);
            if (v) { el.setAttribute(attr, v.replace(/conditions-\d+-/g, "conditions-" + next + "-")); }
          });
          if (el.tagName === "TEXTAREA" || el.tagName === "INPUT") { el.value = ""; }
          if (el.tagName === "SELECT") { el.selectedIndex = 0; }
          el.removeAttribute("aria-invalid");
        });
        copy.querySelectorAll("ul.errors").forEach(function (ul) { ul.remove(); });
        list.appendChild(copy);
        var first = copy.querySelector("textarea, input");
        if (first) { first.focus(); }
      });
    }
  }

  function printJob(box) {
    var url = box.getAttribute("data-status-url");
    var bar = box.querySelector("progress");
    var text = box.querySelector(".progress-text");
    var link = box.querySelector("a.download");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          bar.max = job.total; bar.value = job.done;
          if (job.status === "done") {
            bar.value = job.total;
            text.textContent = text.getAttribute("data-done");
            link.hidden = false;
            link.href = job.download;
          } else if (job.status === "failed") {
            text.textContent = text.getAttribute("data-failed") + " " + (job.error || "");
            var again = box.querySelector("form.restart");
            if (again) { again.hidden = false; }
          } else {
            text.textContent = text.getAttribute("data-running").replace("{done}", job.done).replace("{total}", job.total);
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    if (!link || link.hidden) { poll(); }
  }

  ready(function () {
    var form = document.querySelector("form.decision-form");
    if (form) { decisionForm(form); }
    var box = document.querySelector(".print-job[data-status-url]");
    if (box) { printJob(box); }
  });
}());
