// Hookflow admin UI: the little script it needs besides htmx. No inline handlers (the
// Content-Security-Policy forbids them): behaviour hangs on data attributes.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    // <button data-copy="#id">: copies the value or text of the element #id.
    var btn = ev.target.closest("[data-copy]");
    if (btn) {
      var el = document.querySelector(btn.getAttribute("data-copy"));
      if (el) {
        var text = el.value !== undefined ? el.value : el.textContent;
        if (navigator.clipboard) {
          navigator.clipboard.writeText(text);
        } else if (el.select) {
          el.select();
          document.execCommand("copy");
        }
        btn.setAttribute("data-copied", "true");
      }
    }
  });
  // <form data-confirm="Delete it?">: asks before posting.
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  }, true);
})();
