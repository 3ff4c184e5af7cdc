/* Newsroom Live: live updates and relative times. Small, dependency-free.
 *
 * The page works without this script. With it, a live post listens to its
 * Server-Sent Events stream, puts new entries on top of #entries, updates
 * edited ones in place, removes every copy of a withdrawn one, and refreshes
 * the pinned slot and key events. A reader who has scrolled down is never
 * moved: a "N new updates" button waits for them.
 *
 * Each event has an id; the page keeps the last one applied (its cursor) and
 * ignores anything older. Whenever the stream is not open, the page polls the
 * JSON endpoint from that cursor and keeps trying to open a new stream from it,
 * so a reader whose stream process died or restarted misses nothing.
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
  var cursor = parseInt(page.dataset.liveCursor, 10) || 0; // the last event id applied
  var baseTitle = document.title;
  var pending = []; // {entry, article}: new entries waiting for a reader who scrolled away
  var announced = null; // the entry the announcer last read out: its words go with it
  var source = null;
  var streamOpen = false;
  var openedAt = 0;
  var attempt = 0; // failed connections in a row: the reconnect backoff
  var reconnectTimer = null;
  var pollTimer = null;
  var polling = false; // a poll request is on its way
  var endTimer = null;
  var stopped = false;

  var POLL_EVERY = 5000; // while the stream is down
  var BACKOFF_MAX = 30000;
  var STABLE = 10000; // a stream open this long has proved itself: the backoff starts again from 1 s
  /* A catch-up answer may be a copy up to ~4.25 s behind the log: the server's head of a post
     (1.25 s, delivery/polling.py) then nginx's or a CDN's copy of that answer (2 s fresh + 1 s
     stale). So a stream that opens catches up again once every copy made before it opened has
     expired: what changed just before (a withdrawal during a restart) cannot be missed for good. */
  var CATCH_UP_AGAIN = 5000;

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html || "";
    return template.content.firstElementChild;
  }

  function each(selector, task) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), task);
  }

  /* The same entry can be on the page twice (the pinned slot and the timeline), so an entry
     is found by data-entry, never by id alone; the ids are kept as a fallback for a page
     rendered before data-entry existed. `pk` is a number from parseInt: safe in a selector. */
  function copiesSelector(pk) {
    return '[data-entry="' + pk + '"], [id="entry-' + pk + '"], [id="pinned-entry-' + pk + '"]';
  }

  function timelineCopy(pk) {
    return entries.querySelector('[data-entry="' + pk + '"], [id="entry-' + pk + '"]');
  }

  function readerIsAway() {
    return entries.getBoundingClientRect().top < -40;
  }

  function announce(pk, article) {
    var heading = article.querySelector(".entry__headline, .entry__body");
    announcer.textContent = page.dataset.textAnnounce + " " + (heading ? heading.textContent.trim().slice(0, 140) : "");
    announced = pk;
  }

  /* Where the page orders an entry: (data-order, pk), newest first, as the server lists them.
     An entry published with an earlier time goes where a fresh page puts it, not on top. */
  function newer(a, b) {
    var ao = Number(a.dataset.order), bo = Number(b.dataset.order);
    if (isNaN(ao) || isNaN(bo) || ao === bo) return Number(a.dataset.entry) > Number(b.dataset.entry);
    return ao > bo;
  }

  function place(pk, article) {
    var existing = timelineCopy(pk);
    if (existing) {
      existing.replaceWith(article);
    } else {
      var after = null; // the first entry shown that the new one is newer than
      for (var node = entries.firstElementChild; node; node = node.nextElementSibling) {
        if (node.dataset && node.dataset.entry && newer(article, node)) { after = node; break; }
      }
      // Older than everything shown while older entries are on the next page: it belongs there.
      if (!after && document.querySelector('.pager a[rel="next"][href^="?before="]') && entries.querySelector("[data-entry]")) return;
      var empty = entries.querySelector(".empty");
      if (empty) empty.remove();
      entries.insertBefore(article, after);
    }
    if (!reducedMotion) article.classList.add("entry--new");
    refreshTimes(article);
  }

  function queued(pk) {
    for (var i = 0; i < pending.length; i++) if (pending[i].entry === pk) return i;
    return -1;
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

  function placePending() {
    // Oldest last in the queue: placing from the end keeps the newest on top.
    for (var i = pending.length - 1; i >= 0; i--) place(pending[i].entry, pending[i].article);
    pending = [];
    showPending();
  }

  function flush() {
    placePending();
    entries.scrollIntoView({ behavior: reducedMotion ? "auto" : "smooth", block: "start" });
    var first = entries.firstElementChild;
    if (first) {
      first.setAttribute("tabindex", "-1");
      first.focus({ preventScroll: true });
    }
  }

  button.addEventListener("click", flush);
  window.addEventListener("scroll", function () {
    if (pending.length && !readerIsAway()) placePending();
  }, { passive: true });

  function replaceSection(id, html) {
    var current = document.getElementById(id);
    var next = fragment(html);
    if (current && next) {
      current.replaceWith(next);
      refreshTimes(next);
    }
  }

  function forgetStructuredData(pk) {
    // The page's JSON-LD (in <head>) lists the entries it was rendered with, words included.
    var tail = "/entries/" + pk + "/";
    each('script[type="application/ld+json"]', function (script) {
      var data = JSON.parse(script.textContent);
      if (!data || !Array.isArray(data.liveBlogUpdate)) return;
      data.liveBlogUpdate = data.liveBlogUpdate.filter(function (update) {
        return String(update.url || "").slice(-tail.length) !== tail;
      });
      script.textContent = JSON.stringify(data).replace(/</g, "\\u003c");
    });
  }

  function remove(pk, html) {
    // Every copy goes: the timeline's, the pinned slot's, one waiting in the queue, the
    // announcer's words. An editor's public note takes the timeline copy's place only.
    var note = html ? fragment(html) : null;
    var shown = timelineCopy(pk);
    each(copiesSelector(pk), function (copy) {
      if (copy === shown && note) copy.replaceWith(note);
      else copy.remove();
    });
    if (shown && note) refreshTimes(note);
    // The key events list quotes the headline; its own event follows, but the words must not wait for it.
    each('#key-events a[href="#entry-' + pk + '"]', function (link) { (link.closest("li") || link).remove(); });
    var panel = document.getElementById("key-events-panel");
    if (panel && !panel.querySelector("li")) panel.hidden = true;
    var index = queued(pk);
    if (index >= 0) pending.splice(index, 1);
    if (announced === pk) announcer.textContent = "";
    try { forgetStructuredData(pk); } catch (error) { /* structured data is for crawlers; never stop for it */ }
    showPending();
  }

  function stop() {
    stopped = true;
    streamOpen = false;
    if (source) source.close();
    source = null;
    clearTimeout(pollTimer);
    clearTimeout(reconnectTimer);
    clearTimeout(endTimer);
  }

  function endCoverage() {
    stop();
    var state = document.getElementById("coverage-state");
    if (state) state.textContent = page.dataset.textEnded;
  }

  function scheduleEnd(iso) {
    // Coverage can be extended or shortened while the page is open: the timer follows.
    clearTimeout(endTimer);
    var end = iso ? new Date(iso) : null;
    if (end && !isNaN(end) && end - Date.now() < 2147483647) endTimer = setTimeout(endCoverage, Math.max(0, end - Date.now()));
  }

  function gone() {
    // The post was unpublished: nothing of it may stay on the screen, and there is nothing more to hear.
    stop();
    each("[data-entry], #entries > *, #pinned, #key-events-panel, #what-we-know, .place-map, .pager, script[type='application/ld+json']", function (node) {
      node.remove();
    });
    pending = [];
    showPending();
    var notice = document.createElement("p");
    notice.className = "empty";
    notice.textContent = page.dataset.textGone || "This live post is no longer available.";
    entries.appendChild(notice);
    announcer.textContent = notice.textContent;
    var state = document.getElementById("coverage-state");
    if (state) state.textContent = ""; // no "Live" label on a post that is gone
  }

  var handlers = {
    add: function (pk, event) {
      var article = fragment(event.html);
      if (!article) return;
      announce(pk, article);
      var index = queued(pk);
      if (index >= 0) pending.splice(index, 1);
      if (!timelineCopy(pk) && readerIsAway()) pending.unshift({ entry: pk, article: article });
      else place(pk, article);
      showPending();
    },
    update: function (pk, event) {
      var article = fragment(event.html);
      if (!article) return;
      var index = queued(pk);
      if (index >= 0) pending[index].article = article;
      else if (timelineCopy(pk)) place(pk, article);
    },
    remove: function (pk, event) {
      remove(pk, event.html);
    },
    pinned: function (pk, event) {
      replaceSection("pinned", event.html);
    },
    "key-events": function (pk, event) {
      replaceSection("key-events-panel", event.html);
    },
    coverage: function (pk, event) {
      if (event.public === false) gone();
      else if (event.live === false) endCoverage();
      else scheduleEnd(event.coverage_end);
    }
  };

  function apply(event) {
    var id = event ? parseInt(event.id, 10) : NaN;
    // The end of coverage counts whatever its id: a stream that opens after the end says so
    // with the reader's own cursor.
    var ending = event && event.type === "coverage" && event.live === false;
    if (stopped || (!(id > cursor) && !ending)) return;
    if (id > cursor) cursor = id;
    var handler = handlers.hasOwnProperty(event.type) ? handlers[event.type] : null;
    // A malformed event is skipped; the ones after it still apply.
    try { if (handler) handler(parseInt(event.entry, 10), event); } catch (error) { /* keep going */ }
  }

  /* Polling: while the stream is not open (never opened, dropped, or no EventSource at all). */
  function schedulePoll(delay) {
    clearTimeout(pollTimer);
    pollTimer = stopped || streamOpen ? null : setTimeout(poll, delay);
  }

  function poll() {
    pollTimer = null;
    if (stopped || streamOpen || polling) return;
    polling = true;
    fetch(page.dataset.livePoll + "?after=" + cursor, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) return { public: false }; // the post is gone
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        polling = false;
        if (!data) return schedulePoll(POLL_EVERY);
        if (Array.isArray(data.events)) data.events.forEach(apply);
        // `last` is the last event the server read, kept or not: without it a reader whose
        // batch was all superseded events would ask for the same batch forever.
        var last = parseInt(data.last, 10);
        if (last > cursor) cursor = last;
        if (data.public === false) return gone();
        if (data.live === false) return endCoverage();
        schedulePoll(POLL_EVERY);
      })
      .catch(function () {
        polling = false;
        schedulePoll(POLL_EVERY);
      });
  }

  /* The stream. The browser's own reconnection cannot be trusted: after a 502, a 500 or a
     wrong content type (a proxy while the stream process restarts) EventSource gives up for
     good. So on any error or close we close it ourselves, poll meanwhile, and open a new
     one from our cursor (?after=), which makes the server replay what we missed. */
  function connect() {
    reconnectTimer = null;
    if (stopped) return;
    var stream;
    try {
      stream = source = new EventSource(page.dataset.liveStream + "?after=" + cursor);
    } catch (error) {
      return lost();
    }
    var held = null; // messages held while catching up (engines that cannot replay from our cursor)
    var catching = 0; // catch-up requests on their way
    stream.onopen = function () {
      if (stream !== source) return;
      streamOpen = true;
      openedAt = Date.now();
      clearTimeout(pollTimer);
      pollTimer = null;
      if (page.dataset.liveCatchUp === undefined) return;
      catchUp();
      setTimeout(function () { if (stream === source) catchUp(); }, CATCH_UP_AGAIN);
    };
    stream.onmessage = function (message) {
      if (stream !== source) return;
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; /* skipped, not fatal */ }
      if (event && event.id == null) event.id = parseInt(message.lastEventId, 10);
      if (held) held.push(event);
      else apply(event);
    };
    /* nchan (NEWSROOM_STREAM_ENGINE=nchan) sends only what is published while we listen: what
       came after our cursor before that is asked of the poll endpoint, and the stream's
       messages wait until it is applied (apply() skips what is at or below the cursor). */
    function catchUp() {
      if (!held) held = [];
      catching += 1;
      // "no-store": never the browser's own copy of an earlier answer to the same cursor.
      fetch(page.dataset.livePoll + "?after=" + cursor, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (response.status === 404) return { public: false };
          return response.ok ? response.json() : null;
        })
        .catch(function () { return null; })
        .then(function (data) {
          catching -= 1;
          if (stream !== source) { held = null; return; }
          if (!data) { held = null; return lost(); } // could not catch up: poll and reconnect as after any drop
          if (Array.isArray(data.events)) data.events.forEach(apply);
          var last = parseInt(data.last, 10);
          if (last > cursor) cursor = last;
          if (data.public === false) return gone();
          if (data.live === false) return endCoverage();
          if (catching) return; // the catch-up still on its way releases what is held
          var waiting = held || [];
          held = null;
          waiting.forEach(apply);
        });
    }
    stream.onerror = function () {
      if (stream === source) lost();
    };
  }

  function lost() {
    var wasOpen = streamOpen;
    streamOpen = false;
    if (source) source.close();
    source = null;
    if (stopped) return;
    // Poll at once when the stream drops (a withdrawal made meanwhile must not wait), and
    // every POLL_EVERY until a stream is open again.
    if (wasOpen || !pollTimer) poll();
    // A stream that stayed open a while counts as a success; one that opens and drops at
    // once (a misbehaving proxy, a post whose coverage ended) keeps backing off.
    if (wasOpen && Date.now() - openedAt > STABLE) attempt = 0;
    var delay = Math.min(BACKOFF_MAX, 1000 * Math.pow(2, attempt));
    attempt += 1;
    // Jitter: readers dropped together (a restarted process) must not all come back in the same instant.
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay * (0.5 + Math.random() * 0.5));
  }

  /* --- The live page everywhere (issue 15): "What we know" ------------------------ */
  /* The summary box follows its own event (a snapshot); gone() takes it along with the post. */
  function replaceSummary(pk, event) {
    replaceSection("what-we-know", event.html);
  }

  handlers.summary = replaceSummary;

  /* Under a reader's filter or order (data-controls, site/readers.py), a new entry that matches
     appears where that order puts it; the others are counted in "N new entries not shown". */
  function controlled(controls) {
    var notice = document.getElementById("not-shown");
    var hidden = {};

    function links(article, prefix, slugs) {
      for (var i = 0; i < slugs.length; i++) {
        if (article.querySelector('.entry__footer a[href="' + prefix + encodeURIComponent(slugs[i]) + '/"], .entry__footer a[href="' + prefix + slugs[i] + '/"]')) return true;
      }
      return false;
    }

    function matches(article) {
      if (controls.key && !article.classList.contains("entry--key")) return false;
      if (controls.tag && !links(article, "/tags/", [controls.tag])) return false;
      if (controls.places && controls.places.length && !links(article, "/places/", controls.places)) return false;
      if (controls.author && !links(article, "/authors/", [controls.author])) return false;
      return true;
    }

    function count() {
      var n = Object.keys(hidden).length;
      if (!notice) return;
      notice.hidden = !n;
      notice.firstElementChild.textContent = page.dataset.textNotShown.replace("%(count)s", n);
    }

    var add = handlers.add;
    handlers.add = function (pk, event) {
      var article = fragment(event.html);
      if (!article || timelineCopy(pk)) return add(pk, event);
      if (!matches(article)) { hidden[pk] = true; return count(); }
      if (!controls.oldest) return add(pk, event);
      var empty = entries.querySelector(".empty");
      if (empty) empty.remove();
      entries.appendChild(article); // oldest first: the newest entry is the last
      refreshTimes(article);
      announce(pk, article);
    };
    var removed = handlers.remove;
    handlers.remove = function (pk, event) {
      if (hidden[pk]) { delete hidden[pk]; count(); }
      removed(pk, event);
    };
  }

  if (page.dataset.controls) {
    try { controlled(JSON.parse(page.dataset.controls)); } catch (error) { /* the page still updates, unfiltered */ }
  }

  scheduleEnd(page.dataset.coverageEnd);
  if (window.EventSource) connect();
  else poll();
})();
