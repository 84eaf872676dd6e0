// The batch page while its checks run: polls progress.json and shows the results when the run is done.
// Loaded only on a batch that is "checking"; without JavaScript the page keeps its Refresh link.
(function () {
  "use strict";

  var POLL_MS = 1500;
  var RETRY_MS = 4000;
  var MAX_FAILURES = 5;

  var region = document.querySelector("[data-progress-url]");
  if (!region || !window.fetch) {
    return;
  }
  var url = region.getAttribute("data-progress-url");
  var message = region.querySelector("[data-progress-message]");
  var elapsedWrap = region.querySelector("[data-progress-elapsed-wrap]");
  var elapsed = region.querySelector("[data-progress-elapsed]");
  var offline = region.querySelector("[data-progress-offline]");
  var auto = region.querySelector("[data-progress-auto]");
  var submittedAt = Date.parse(region.getAttribute("data-submitted-at") || "");
  var phase = region.getAttribute("data-phase");
  // The page's language: the server fills these patterns in ("{minutes} min {seconds} s", "{minutes}분 {seconds}초").
  var minutesPattern = region.getAttribute("data-elapsed-minutes") || "{minutes} min {seconds} s";
  var secondsPattern = region.getAttribute("data-elapsed-seconds") || "{seconds} s";
  var failures = 0;

  function showElapsed() {
    if (isNaN(submittedAt) || !elapsed) {
      return;
    }
    var seconds = Math.max(0, Math.round((Date.now() - submittedAt) / 1000));
    var minutes = Math.floor(seconds / 60);
    elapsed.textContent = (minutes > 0 ? minutesPattern : secondsPattern)
      .replace("{minutes}", String(minutes))
      .replace("{seconds}", String(minutes > 0 ? seconds % 60 : seconds));
    elapsedWrap.hidden = false;
  }

  // The server renders the results (badges, numbers, fixes): one place for how they look. They replace
  // the page's main content in place, so the reader stays where they are and nothing reloads.
  function showResults() {
    fetch(window.location.href, {headers: {"Accept": "text/html"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("batch page not available: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var main = document.getElementById("main");
        var next = fresh.getElementById("main");
        if (!main || !next) {
          window.location.reload();
          return;
        }
        main.replaceChildren.apply(main, Array.prototype.map.call(next.childNodes, function (node) {
          return document.importNode(node, true);
        }));
        document.title = fresh.title;
        var heading = main.querySelector("h1");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          heading.focus();
        }
      })
      .catch(function () {
        window.location.reload();
      });
  }

  function schedule(delay) {
    window.setTimeout(poll, delay);
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        // A signed-out session is redirected to the login page: HTML, not JSON.
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) {
          throw new Error("progress not available: " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        failures = 0;
        offline.hidden = true;
        // The live region is only rewritten when the phase changes, so screen readers hear each step once.
        if (progress.phase !== phase) {
          phase = progress.phase;
          message.textContent = progress.message;
        }
        if (progress.phase === "done") {
          showResults();
          return;
        }
        schedule(POLL_MS);
      })
      .catch(function () {
        failures += 1;
        if (failures >= MAX_FAILURES) {
          offline.hidden = false;
          return;
        }
        schedule(RETRY_MS);
      });
  }

  if (auto) {
    auto.hidden = false;
  }
  showElapsed();
  window.setInterval(showElapsed, 1000);
  schedule(POLL_MS);
})();
