/* Live workshop glue: countdown timers and vote retries. A static file: no inline scripts (CSP).
 *
 * - [data-countdown] holds the seconds left when the server rendered it; with data-running
 *   it counts down here each second (and past zero, as "+m:ss" over time). A poll that
 *   swaps in a new fragment brings the server's figure again, so clocks never drift far.
 * - A vote that could not be sent (a phone dropping off the Wi-Fi) is sent again, with the
 *   same value, until it goes through: the server keeps one vote per person and round.
 */
(function () {
  "use strict";

  function format(seconds) {
    var over = seconds < 0;
    var s = Math.abs(seconds);
    var text = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    return over ? "+" + text : text;
  }

  var started = Date.now();
  function startCountdowns(root) {
    var nodes = (root || document).querySelectorAll("[data-countdown]");
    nodes.forEach(function (node) {
      node.setAttribute("data-base", node.getAttribute("data-countdown"));
      node.setAttribute("data-at", String(Date.now()));
    });
  }

  function tick() {
    document.querySelectorAll("[data-countdown][data-running]").forEach(function (node) {
      var base = parseInt(node.getAttribute("data-base") || node.getAttribute("data-countdown"), 10);
      var at = parseInt(node.getAttribute("data-at") || String(started), 10);
      var left = base - Math.floor((Date.now() - at) / 1000);
      node.textContent = format(left);
      node.classList.toggle("over", left < 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns(document);
    window.setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    startCountdowns(evt.target && evt.target.parentNode ? evt.target.parentNode : document);
  });

  // Remember which level was tapped, so a failed send can be repeated.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-vote-form] button[name=value]") : null;
    if (!button) return;
    var form = button.closest("form");
    form.setAttribute("data-last-value", button.value);
    form.querySelectorAll("button[name=value]").forEach(function (b) {
      b.classList.toggle("sending", b === button);
    });
  });

  document.addEventListener("htmx:sendError", function (evt) {
    var form = evt.detail.elt && evt.detail.elt.closest ? evt.detail.elt.closest("[data-vote-form]") : null;
    if (!form || !window.htmx) return;
    var attempt = parseInt(form.getAttribute("data-retry") || "0", 10) + 1;
    form.setAttribute("data-retry", String(attempt));
    var state = form.querySelector(".vote-state");
    var delay = Math.min(10000, 500 * Math.pow(2, attempt));
    if (state) state.textContent = "No connection: sending your vote again in " + Math.ceil(delay / 1000) + " s…";
    window.setTimeout(function () {
      var values = {
        value: form.getAttribute("data-last-value") || "",
        capability: form.querySelector("input[name=capability]").value,
        round: form.querySelector("input[name=round]").value
      };
      window.htmx.ajax("POST", form.getAttribute("hx-post"), {
        source: form, target: "#live", swap: "outerHTML", values: values
      });
    }, delay);
  });
})();
