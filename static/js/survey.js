/* Survey autosave glue for htmx. Loaded as a static file: no inline scripts (CSP).
 *
 * - Every autosave request carries `seq`, a number that only grows (milliseconds since the
 *   epoch, bumped when two edits share a millisecond), so the server keeps the latest edit and
 *   ignores a late, stale request, across tabs too.
 * - A refused answer shows the server's reason next to the question; a lost connection shows
 *   "not saved" and retries with back-off.
 * - Forms marked data-once send once however often the button is pressed.
 * - Leaving a survey page with an edit not yet saved asks first (beforeunload).
 */
(function () {
  "use strict";

  // The page says "Answers are saved when you press Save and continue" (true without
  // JavaScript); with htmx loaded, each answer does save as it changes.
  if (window.htmx) {
    document.querySelectorAll("[data-js-text]").forEach(function (el) {
      el.textContent = el.getAttribute("data-js-text");
    });
  }

  // An edit is "unsaved" from the moment it is made until an autosave that carried it
  // succeeds; leaving the page then asks first. Submitting the page form saves everything.
  var leavingByForm = false;
  function editsOf(root) {
    return parseInt(root.getAttribute("data-edits") || "0", 10);
  }
  function unsavedRoots() {
    return document.querySelectorAll("form[data-page-form] [data-unsaved]");
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (evt) {
      var form = evt.target.closest ? evt.target.closest("form[data-page-form]") : null;
      if (!form || evt.target.type === "hidden") return;
      var root = autosaveRoot(evt.target) || form;
      root.setAttribute("data-edits", String(editsOf(root) + 1));
      root.setAttribute("data-unsaved", "");
    }, true);  // capture: counted before htmx (listening on the fieldset) sends the edit
  });
  window.addEventListener("beforeunload", function (evt) {
    if (leavingByForm || unsavedRoots().length === 0) return;
    evt.preventDefault();
    evt.returnValue = "";  // older browsers need a value to show their "leave page?" prompt
  });

  // Start above the server's render time (the page form's hidden seq), so this page's edits
  // outrank what was stored when it was rendered even when this computer's clock is behind.
  var lastSeq = 0;
  function nextSeq() {
    if (lastSeq === 0) {
      var rendered = document.querySelector("form[data-page-form] input[name=seq]");
      lastSeq = rendered ? parseInt(rendered.value, 10) || 0 : 0;
    }
    lastSeq = Math.max(Date.now(), lastSeq + 1);
    return lastSeq;
  }

  function autosaveRoot(elt) {
    return elt && elt.closest ? elt.closest("[data-autosave]") : null;
  }

  function setState(root, text, cls) {
    var state = root && root.querySelector(".save-state");
    if (!state) return;
    state.textContent = text;
    state.className = "save-state " + cls;
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var root = autosaveRoot(evt.detail.elt);
    if (root) {
      evt.detail.parameters["seq"] = String(nextSeq());
      root.setAttribute("data-sent-edits", String(editsOf(root)));
    }
  });

  // Mark the question's fields invalid (or valid again), pointing at the reason shown beside them.
  function markInvalid(root, invalid) {
    var state = root.querySelector(".save-state");
    root.querySelectorAll("input:not([type=hidden]), textarea").forEach(function (field) {
      if (invalid) {
        field.setAttribute("aria-invalid", "true");
        if (state && state.id) field.setAttribute("aria-describedby", state.id);
      } else if (field.getAttribute("aria-invalid")) {
        field.removeAttribute("aria-invalid");
        field.removeAttribute("aria-describedby");
      }
    });
    root.classList.toggle("flagged", invalid);
  }

  // A refused autosave is this page's business, shown beside its question: no handler may
  // swap its response into the document (django-htmx's DEBUG handler replaced the whole page
  // with it). Capture on window runs before any listener on document.
  window.addEventListener(
    "htmx:beforeOnLoad",
    function (evt) {
      var xhr = evt.detail && evt.detail.xhr;
      if (autosaveRoot(evt.detail && evt.detail.elt) && xhr && xhr.status >= 400) {
        evt.stopPropagation();
      }
    },
    true
  );

  document.addEventListener("htmx:afterRequest", function (evt) {
    var root = autosaveRoot(evt.detail.elt);
    if (root && evt.detail.successful) {
      root.removeAttribute("data-retry");
      markInvalid(root, false);
      // Saved, unless another edit was made while this request was on its way.
      if (root.getAttribute("data-sent-edits") === String(editsOf(root))) {
        root.removeAttribute("data-unsaved");
      }
    }
  });

  document.addEventListener("htmx:responseError", function (evt) {
    var root = autosaveRoot(evt.detail.elt);
    if (!root) return;
    var xhr = evt.detail.xhr;
    var reason = (xhr && xhr.responseText) || "the server refused this answer.";
    if (reason.length > 300 || reason.charAt(0) === "<") reason = "the server refused this answer.";
    if (xhr && xhr.status === 403) reason = "this page has expired. Reload it, then answer again.";
    setState(root, "Not saved: " + reason, "failed");
    markInvalid(root, xhr && xhr.status !== 409 && xhr.status !== 403);
  });

  document.addEventListener("htmx:sendError", function (evt) {
    var root = autosaveRoot(evt.detail.elt);
    if (!root) return;
    var attempt = parseInt(root.getAttribute("data-retry") || "0", 10) + 1;
    root.setAttribute("data-retry", String(attempt));
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt));
    setState(root, "Not saved: no connection. Trying again in " + Math.round(delay / 1000) + " s…", "failed");
    window.setTimeout(function () {
      if (window.htmx) window.htmx.trigger(root, "change");
    }, delay);
  });

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    // "Save and continue" carries what is on screen, which is this page's newest edit.
    var pageSeq = form.matches && form.matches("[data-page-form]") ? form.querySelector("input[name=seq]") : null;
    if (pageSeq) {
      pageSeq.value = String(nextSeq());
      leavingByForm = true;
    }
    if (!form.matches || !form.matches("[data-once]")) return;
    if (form.getAttribute("data-sent") === "1") {
      evt.preventDefault();
      return;
    }
    form.setAttribute("data-sent", "1");
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.setAttribute("aria-disabled", "true");
      button.textContent = button.getAttribute("data-busy-label") || "Sending…";
    }
  });

  // "Copy all links": name, address, role and link of every new link, one per line.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy-all]") : null;
    if (!button) return;
    var section = document.getElementById(button.getAttribute("data-copy-all"));
    if (!section || !navigator.clipboard) return;
    var lines = [];
    section.querySelectorAll("input[data-line]").forEach(function (input) {
      var who = input.getAttribute("data-line").trim();
      lines.push(who ? who + " " + input.value : input.value);
    });
    navigator.clipboard.writeText(lines.join("\n") + "\n").then(function () {
      button.textContent = "Copied " + lines.length + " links";
    });
  });

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = "Copied";
      });
    }
  });
})();
