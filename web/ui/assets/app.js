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
// The workflow builder (templates/_builder.html): <form data-builder>. A change marks
// the form as unsaved, and leaving the page then asks first; saving clears the mark.
// htmx swaps the whole form on structural changes: focus goes back to the control that
// had it (same id), and the mark survives the swap.
(function () {
  "use strict";
  var dirty = false;
  var focusId = null;
  function isBuilder(el) { return el && el.closest && el.closest("form[data-builder]"); }
  document.addEventListener("input", function (ev) { if (isBuilder(ev.target)) dirty = true; });
  document.addEventListener("change", function (ev) { if (isBuilder(ev.target)) dirty = true; });
  document.addEventListener("submit", function (ev) {
    if (ev.target.matches && ev.target.matches("form[data-builder]") && !ev.defaultPrevented) dirty = false;
  });
  // The tools (/workflows/{id}/builder/...) swap only their own fragments: they change
  // no field and leave the focus where it is.
  function isTool(ev) {
    var rc = ev.detail && ev.detail.requestConfig;
    return !!(rc && rc.path && rc.path.indexOf("/builder/") !== -1);
  }
  document.addEventListener("htmx:beforeRequest", function (ev) {
    if (!isBuilder(ev.target) || isTool(ev)) return;
    dirty = true;
    var a = document.activeElement;
    focusId = a && a.id ? a.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusId) return;
    var el = document.getElementById(focusId);
    if (el && el.focus) el.focus();
    focusId = null;
  });
  window.addEventListener("beforeunload", function (ev) {
    if (dirty && document.querySelector("form[data-builder]")) {
      ev.preventDefault();
      ev.returnValue = "";
    }
  });
})();
// The builder's variable picker (templates/_builder_tools.html): <button data-insert>
// inserts its text at the cursor of the step's text field that last had focus (else the
// step's first text field), replacing any selection, and puts the cursor after it.
(function () {
  "use strict";
  var last = null;
  function textField(el) {
    return el && el.matches && el.closest("form[data-builder]") && !el.readOnly && !el.disabled &&
      (el.matches("textarea") || el.matches("input[type=text]")) && !el.closest(".builder-paste");
  }
  document.addEventListener("focusin", function (ev) { if (textField(ev.target)) last = ev.target; });
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-insert]");
    if (!btn) return;
    var card = btn.closest(".builder-step") || document;
    var el = last;
    if (!el || !document.contains(el) || (card !== document && !card.contains(el))) {
      el = null;
      var fields = card.querySelectorAll("textarea, input[type=text]");
      for (var i = 0; i < fields.length && !el; i++) if (textField(fields[i]) && fields[i].name.indexOf(".with.") > 0) el = fields[i];
    }
    if (!el) return;
    var text = btn.getAttribute("data-insert");
    var start = el.selectionStart, end = el.selectionEnd;
    if (start == null) { start = end = el.value.length; }
    el.value = el.value.slice(0, start) + text + el.value.slice(end);
    el.focus();
    el.setSelectionRange(start + text.length, start + text.length);
    el.dispatchEvent(new Event("input", {bubbles: true}));
  });
})();
// The builder's inline "New connection" (templates/_builder_inline.html): its answer's
// builder-connection event {step, name} chooses the new connection in the step's select;
// the select's change draws the builder again (its "refresh").
document.addEventListener("builder-connection", function (ev) {
  "use strict";
  var d = ev.detail || {};
  var sel = document.querySelector('select[name="steps[' + Number(d.step) + '].connection"]');
  if (!sel || typeof d.name !== "string") return;
  var has = Array.prototype.some.call(sel.options, function (o) { return o.value === d.name; });
  if (!has) sel.add(new Option(d.name, d.name));
  sel.value = d.name;
  sel.dispatchEvent(new Event("change", { bubbles: true }));
});
// Enter in the inline "New connection" fields would submit the builder (Save): there it
// does nothing, so a half-typed connection never saves the workflow.
// Both keydown and keypress: browsers submit on either, and a stopped keydown does not
// always stop the keypress (DevTools' key events, for one).
["keydown", "keypress"].forEach(function (type) {
  document.addEventListener(type, function (ev) {
    "use strict";
    if (ev.key === "Enter" && ev.target.closest && ev.target.closest(".builder-newconn") && ev.target.tagName === "INPUT") {
      ev.preventDefault();
    }
  });
});
