/* A desk that moves: colleagues' drafts, submissions, returns, publications, withdrawals,
 * pins, key events, edits and corrections appear in place within a second, with who did it;
 * "<name> is editing since 14:03" on the entry they have open; what came back to you on
 * top of the desk and in the tab's title. The row buttons work in place too.
 *
 * It polls the desk's staff-only feed (editorial/feed.py) every second while the tab is
 * shown, every 10 s while hidden. A row being worked in (a focused field, an open form)
 * is refreshed once the work there is done, never under the cursor.
 */
(function () {
  "use strict";
  var VISIBLE_MS = 1000, HIDDEN_MS = 10000, ACTIVITY_KEPT = 30;

  document.addEventListener("DOMContentLoaded", function () {
    var desk = document.getElementById("desk");
    var list = document.getElementById("desk-entries");
    if (!desk || !list || !window.NLDesk) return;
    var cursor = desk.dataset.cursor || "0";
    var activity = document.getElementById("desk-activity");
    var writing = document.getElementById("desk-writing");
    var returned = document.getElementById("desk-returned");
    var baseTitle = document.title;
    var waiting = {};   // rows to refresh once nobody works in them
    var presence = [];
    var seen = [];

    var message = document.createElement("p");
    message.id = "desk-message";
    message.className = "nl-desk__message";
    message.setAttribute("role", "status");
    list.parentNode.insertBefore(message, list);

    function busy(row) {
      return row.contains(document.activeElement) && document.activeElement !== document.body ||
        Array.prototype.some.call(row.querySelectorAll("details.nl-more[open] textarea, details.nl-more[open] input[type=datetime-local]"), function (field) { return field.value; });
    }
    function build(html) {
      var holder = document.createElement("ol");
      holder.innerHTML = html.trim();
      return holder.firstElementChild;
    }
    function showRow(id, html, force) {
      var row = document.getElementById("desk-entry-" + id);
      if (row && !force && busy(row)) { waiting[id] = html; return; }
      delete waiting[id];
      var fresh = build(html);
      if (!fresh) return;
      if (row) {
        row.querySelectorAll("details[open]").forEach(function (open) {
          var same = fresh.querySelector("details summary");
          if (same && open.querySelector("summary").textContent === same.textContent) same.parentNode.open = true;
        });
        row.replaceWith(fresh);
      } else {
        var empty = list.querySelector("li:not(.nl-entry)");
        if (empty) empty.remove();
        list.prepend(fresh);
      }
      applyPresence();
    }
    NLDesk.showRow = function (id, html) { showRow(id, html, true); };

    function applyPresence() {
      list.querySelectorAll("[data-presence]").forEach(function (node) { node.hidden = true; node.textContent = ""; });
      var writers = [];
      presence.forEach(function (p) {
        if (p.entry) {
          var node = document.querySelector("#desk-entry-" + p.entry + " [data-presence]");
          if (node) {
            node.textContent = (node.textContent ? node.textContent + "; " : "") + p.who + " is editing since " + p.since;
            node.hidden = false;
          }
        } else {
          writers.push(p.who + " (since " + p.since + ")");
        }
      });
      writing.textContent = writers.length ? "Writing a new entry: " + writers.join(", ") : "";
    }

    function showReturned(items) {
      var ul = returned.querySelector("ul");
      ul.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = item.url; a.textContent = item.headline;
        li.append(a);
        if (item.note) {
          var note = document.createElement("span");
          note.className = "nl-muted";
          note.textContent = " — " + item.note;
          li.append(note);
        }
        ul.append(li);
      });
      returned.hidden = items.length === 0;
      document.title = (items.length ? "(" + items.length + " returned) " : "") + baseTitle;
    }

    function addActivity(items) {
      items.forEach(function (item) {
        var li = document.createElement("li");
        var time = document.createElement("span");
        time.className = "nl-muted";
        time.textContent = item.time + " ";
        li.append(time, document.createTextNode(item.text));
        activity.prepend(li);
      });
      while (activity.children.length > ACTIVITY_KEPT) activity.lastElementChild.remove();
    }

    function poll() {
      var url = desk.dataset.feedUrl + "?after=" + encodeURIComponent(cursor) + "&seen=" + seen.join(",");
      NLDesk.send(url, null, { method: "GET" }).then(function (answer) {
        if (answer.ok === false) return;
        cursor = String(answer.cursor);
        // Events committed late with a smaller id still arrive (the server looks back a little):
        // remember the recent ones so they are not sent twice.
        (answer.activity || []).forEach(function (item) { seen.push(item.id); });
        seen = seen.filter(function (id) { return id > Number(cursor) - 20; }).slice(-20);
        addActivity(answer.activity || []);
        Object.keys(answer.rows || {}).forEach(function (id) { showRow(id, answer.rows[id]); });
        (answer.removed || []).forEach(function (id) { var row = document.getElementById("desk-entry-" + id); if (row) row.remove(); });
        Object.keys(waiting).forEach(function (id) { showRow(id, waiting[id]); });
        presence = answer.presence || [];
        applyPresence();
        showReturned(answer.returned || []);
      }).then(schedule, schedule);
    }
    function schedule() { setTimeout(poll, document.hidden ? HIDDEN_MS : VISIBLE_MS); }
    poll();

    // --- Row buttons in place ------------------------------------------------------------------
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    function prepareZones(scope) {
      scope.querySelectorAll("[data-zone-input]").forEach(function (input) { input.value = zone; });
      scope.querySelectorAll("[data-zone-label]").forEach(function (label) { if (zone) label.textContent = "(" + zone + " time, your computer's zone)"; });
    }
    prepareZones(list);
    new MutationObserver(function () { prepareZones(list); }).observe(list, { childList: true });

    var ACTION = /\/entry\/(\d+)\/workflow\/(\w+)\/$/;
    list.addEventListener("submit", function (event) {
      var form = event.target;
      var match = ACTION.exec(new URL(form.action, location.href).pathname);
      if (!match) return;
      event.preventDefault();
      var id = match[1], action = match[2];
      var url = desk.dataset.actUrl.replace("/0/ACTION/", "/" + id + "/" + action + "/");
      var data = new FormData(form);
      function go(body) {
        message.textContent = "Sending…";
        NLDesk.send(url, body, { onStatus: function (text) { message.textContent = text; } }).then(function (answer) {
          if (answer.confirm && window.confirm(answer.error)) { body.set("confirm_past", "on"); go(body); return; }
          message.textContent = answer.ok ? answer.message : answer.error;
          message.className = "nl-desk__message nl-desk__message--" + (answer.ok ? "success" : "error");
          if (answer.row) showRow(id, answer.row, true);
          if (answer.removed) { var gone = document.getElementById("desk-entry-" + answer.removed); if (gone) gone.remove(); }
        });
      }
      go(data);
    });
  });
})();
