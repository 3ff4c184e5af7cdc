/* Newsroom Live: live updates and relative times. Small, dependency-free.
 *
 * The page works without this script. With it, a live post listens to its
 * Server-Sent Events stream (falling back to polling the JSON endpoint), puts
 * new entries on top of #entries, updates edited ones in place, removes
 * withdrawn ones, and refreshes the pinned slot and key events. A reader who
 * has scrolled down is never moved: a "N new updates" button waits for them.
 */
(function () {
  "use strict";

  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  /* --- Times ------------------------------------------------------------------ */

  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" }) : null;

  function ago(date) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    var abs = Math.abs(seconds);
    if (abs < 45) return relative.format(0, "second");
    if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
    if (abs < 86400) return relative.format(Math.round(seconds / 3600), "hour");
    return relative.format(Math.round(seconds / 86400), "day");
  }

  var LOCAL_FORMAT = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };

  function refreshTimes(root) {
    var times = (root || document).querySelectorAll(".entry__time time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var time = times[i];
      var date = new Date(time.getAttribute("datetime"));
      if (isNaN(date)) continue;
      if (!time.dataset.local) {
        // The reader's own clock on hover, beside the newsroom's.
        time.title = time.title + " · " + date.toLocaleString(undefined, LOCAL_FORMAT);
        time.dataset.local = "1";
      }
      if (!relative) continue;
      var label = time.parentNode.querySelector(".rel");
      if (!label) {
        label = document.createElement("span");
        label.className = "rel";
        time.parentNode.appendChild(label);
      }
      label.textContent = ago(date);
    }
  }

  function safely(task) {
    // Times are a nicety: a browser that cannot format them must still get live updates.
    return function (root) { try { task(root); } catch (error) { /* keep going */ } };
  }
  /* Videos: a facade until the reader asks, so no third party hears of the visit before. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".video-facade__link");
    if (!link) return;
    var facade = link.parentNode;
    event.preventDefault();
    var frame = document.createElement("iframe");
    frame.src = facade.dataset.embed;
    frame.title = facade.dataset.title;
    frame.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
    frame.setAttribute("allowfullscreen", "");
    facade.replaceWith(frame);
    frame.focus();
  });

  refreshTimes = safely(refreshTimes);
  refreshTimes();
  setInterval(refreshTimes, 30000);

  /* --- Live stream ---------------------------------------------------------------- */

  var page = document.querySelector("[data-live-stream]");
  if (!page) return;

  var entries = document.getElementById("entries");
  var button = document.getElementById("new-updates");
  var announcer = document.getElementById("live-announcer");
  var cursor = parseInt(page.dataset.liveCursor, 10) || 0;
  var baseTitle = document.title;
  var pending = [];
  var source = null;
  var pollTimer = null;
  var stopped = false;

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content.firstElementChild;
  }

  function readerIsAway() {
    return entries.getBoundingClientRect().top < -40;
  }

  function announce(article) {
    var heading = article.querySelector(".entry__headline, .entry__body");
    announcer.textContent = page.dataset.textAnnounce + " " + (heading ? heading.textContent.trim().slice(0, 140) : "");
  }

  function place(article) {
    var existing = document.getElementById(article.id);
    if (existing) {
      existing.replaceWith(article);
    } else {
      var empty = entries.querySelector(".empty");
      if (empty) empty.remove();
      entries.insertBefore(article, entries.firstElementChild);
    }
    if (!reducedMotion) article.classList.add("entry--new");
    refreshTimes(article);
  }

  function showPending() {
    var count = pending.length;
    if (!count) {
      button.hidden = true;
      document.title = baseTitle;
      return;
    }
    button.textContent = count === 1 ? page.dataset.textNewOne : page.dataset.textNewMany.replace("%(count)s", count);
    button.hidden = false;
    document.title = "(" + count + ") " + baseTitle;
  }

  function flush() {
    pending.forEach(place);
    pending = [];
    showPending();
    entries.scrollIntoView({ behavior: reducedMotion ? "auto" : "smooth", block: "start" });
    var first = entries.firstElementChild;
    if (first) {
      first.setAttribute("tabindex", "-1");
      first.focus({ preventScroll: true });
    }
  }

  button.addEventListener("click", flush);
  window.addEventListener("scroll", function () {
    if (pending.length && !readerIsAway()) {
      pending.forEach(place);
      pending = [];
      showPending();
    }
  }, { passive: true });

  function replaceSection(id, html) {
    var current = document.getElementById(id);
    var next = fragment(html);
    if (current && next) {
      current.replaceWith(next);
      refreshTimes(next);
    }
  }

  function endCoverage() {
    stopped = true;
    if (source) source.close();
    clearTimeout(pollTimer);
    var state = document.getElementById("coverage-state");
    if (state) state.textContent = page.dataset.textEnded;
  }

  function apply(event) {
    if (event.id <= cursor) return;
    cursor = event.id;
    switch (event.type) {
      case "add":
      case "update": {
        var article = fragment(event.html);
        if (!article) return;
        if (event.type === "update") {
          var queued = pending.findIndex(function (a) { return a.id === article.id; });
          if (queued >= 0) { pending[queued] = article; return; }
          if (document.getElementById(article.id)) place(article);
          return;
        }
        announce(article);
        if (readerIsAway() && !document.getElementById(article.id)) {
          pending.unshift(article);
          showPending();
        } else {
          place(article);
        }
        return;
      }
      case "remove": {
        // With html, the editor left a note for readers: it takes the entry's place.
        var gone = document.getElementById("entry-" + event.entry);
        var note = event.html ? fragment(event.html) : null;
        if (gone && note) { gone.replaceWith(note); refreshTimes(note); }
        else if (gone) gone.remove();
        pending = pending.filter(function (a) { return a.id !== "entry-" + event.entry; });
        showPending();
        return;
      }
      case "pinned":
        replaceSection("pinned", event.html);
        return;
      case "key-events":
        replaceSection("key-events-panel", event.html);
        return;
      case "coverage":
        if (!event.live) endCoverage();
        return;
    }
  }

  /* Polling: for browsers or proxies that cannot hold a stream open. */
  function poll() {
    if (stopped) return;
    fetch(page.dataset.livePoll + "?after=" + cursor, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) {
          data.events.forEach(apply);
          if (!data.live) return endCoverage();
        }
        pollTimer = setTimeout(poll, 10000);
      })
      .catch(function () { pollTimer = setTimeout(poll, 20000); });
  }

  function listen() {
    if (!window.EventSource) return poll();
    var opened = false;
    var failures = 0;
    source = new EventSource(page.dataset.liveStream + "?after=" + cursor);
    source.onopen = function () { opened = true; failures = 0; };
    source.onmessage = function (message) {
      try { apply(JSON.parse(message.data)); } catch (error) { /* a malformed event is skipped, not fatal */ }
    };
    source.onerror = function () {
      failures += 1;
      // The browser reconnects by itself with Last-Event-ID; if the stream never
      // opens (a proxy that buffers, a network that forbids it), poll instead.
      if (!opened && failures >= 3) {
        source.close();
        poll();
      }
    };
  }

  var end = page.dataset.coverageEnd ? new Date(page.dataset.coverageEnd) : null;
  if (end && end - Date.now() < 2147483647) setTimeout(endCoverage, Math.max(0, end - Date.now()));
  listen();
})();
