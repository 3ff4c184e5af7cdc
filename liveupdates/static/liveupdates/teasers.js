/* Newsroom Live: live teasers (home, column pages, the teaser embed). Small, dependency-free.
 *
 * Every [data-teaser] on the page is refreshed from /teasers.json while the page is
 * visible: its latest entries and "updated 2 minutes ago". A post missing from the
 * answer is no longer public, and its teaser leaves the page with all its words.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-teasers]");
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" }) : null;

  function ago(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    var abs = Math.abs(seconds);
    if (abs < 45) return relative.format(0, "second");
    if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
    if (abs < 86400) return relative.format(Math.round(seconds / 3600), "hour");
    return relative.format(Math.round(seconds / 86400), "day");
  }

  function refreshTimes() {
    if (!relative) return;
    var times = document.querySelectorAll(".teaser time[data-ago]");
    for (var i = 0; i < times.length; i++) {
      var date = new Date(times[i].getAttribute("datetime"));
      if (!isNaN(date)) times[i].textContent = ago(date);
    }
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html || "";
    return template.content.firstElementChild;
  }

  function teasers() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-teaser]"));
  }

  function apply(data) {
    var found = (data && data.teasers) || {};
    teasers().forEach(function (teaser) {
      var slug = teaser.getAttribute("data-teaser");
      if (Object.prototype.hasOwnProperty.call(found, slug)) {
        var next = fragment(found[slug]);
        if (next) teaser.replaceWith(next);
      } else {
        // Not public any more: nothing of it may stay on the screen.
        var card = teaser.closest(".post-card");
        if (card) card.remove();
        else teaser.remove();
      }
    });
    refreshTimes();
  }

  var every = Math.max(1, parseInt(root && root.getAttribute("data-teasers-every"), 10) || 15) * 1000;
  var busy = false;

  function refresh() {
    var slugs = teasers().map(function (teaser) { return teaser.getAttribute("data-teaser"); });
    if (!slugs.length || busy || document.hidden) return;
    busy = true;
    fetch(root.getAttribute("data-teasers") + "?posts=" + slugs.map(encodeURIComponent).join(","), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { busy = false; if (data) apply(data); })
      .catch(function () { busy = false; });
  }

  try { refreshTimes(); } catch (error) { /* times are a nicety */ }
  setInterval(refreshTimes, 30000);
  if (!root || !window.fetch) return;
  setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
