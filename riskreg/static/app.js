/* riskreg: small progressive enhancements. Every page works without this file (strict CSP: no inline
   script); it only adds the phone menu toggle, copy buttons, confirmations and focus on error summaries. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    // The main menu folds away behind a button on small screens.
    var toggle = document.querySelector(".menu-toggle");
    var nav = document.getElementById("main-nav");
    if (toggle && nav) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }

    // Filters start folded on phones when none is set (they stay open on wide screens).
    var filters = document.querySelector("details.filters[data-collapse-narrow]");
    if (filters && window.matchMedia("(max-width: 720px)").matches) {
      filters.open = false;
    }

    // Buttons that copy a value (an API token shown once).
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) { return; }
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          var done = button.getAttribute("data-copied");
          if (done) { button.textContent = done; }
        });
      });
    });

    // Forms that ask before they act (revoke, deactivate).
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });

    // Selects that apply themselves (sort order, rows per page) where the form says so.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { if (select.form) { select.form.submit(); } });
    });

    // Move focus to the error summary so that screen readers announce it.
    var summary = document.querySelector(".error-summary, .conflict");
    if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
  });
})();
