/* An open entry form never loses a word and says who else has it open.
 *
 * Every change is kept in this browser's storage at once and on the server (the
 * per-user autosave, not a revision) within a few seconds; every 10 s the form also
 * says it is still open, so colleagues' desks show "<name> is editing since 14:03"
 * and this form shows who else is. Coming back offers to restore unsent words;
 * leaving with unsent words asks first. After a refused stale save, both versions
 * are on the page (entry/change_form.html) and merge.js merges them into this form.
 */
(function () {
  "use strict";
  var AUTOSAVE_MS = 3000, HEARTBEAT_MS = 10000;

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("nl-edit");
    var form = document.getElementById("entry_form");
    if (!box || !form || !window.NLDesk) return;
    var headline = form.querySelector("#id_headline");
    var textarea = form.querySelector("#id_body");
    var version = form.querySelector("[name=loaded_version]");
    var others = document.getElementById("nl-edit-others");
    var key = box.dataset.key;
    var storageKey = "nl-autosave:" + box.dataset.user + ":" + key;
    var dirty = false, submitting = false, timer = null;

    function editor() { return window.CKEDITOR && CKEDITOR.instances.id_body; }
    function bodyValue() { var e = editor(); return e ? e.getData() : textarea.value; }
    function snapshot() { return { headline: headline ? headline.value : "", body: bodyValue(), loaded_version: version ? version.value : "", at: Date.now() }; }

    function save() {
      clearTimeout(timer);
      var now = snapshot();
      var wasDirty = dirty;
      dirty = false;
      NLDesk.send(box.dataset.autosaveUrl, { key: key, headline: now.headline, body: now.body, loaded_version: now.loaded_version }, {
        onStatus: function (text) { others.textContent = text; others.hidden = false; }
      }).then(function (answer) {
        if (!answer.ok) { if (wasDirty) dirty = true; return; }
        var names = (answer.others || []).map(function (o) { return o.who + " is also editing this entry since " + o.since; });
        others.textContent = names.length ? names.join("; ") + ". The second to save will see both versions and merge them." : "";
        others.hidden = names.length === 0;
      });
      timer = setTimeout(save, HEARTBEAT_MS);
    }
    function changed() {
      dirty = true;
      try { localStorage.setItem(storageKey, JSON.stringify(snapshot())); } catch (e) { /* the server copy remains */ }
      clearTimeout(timer);
      timer = setTimeout(save, AUTOSAVE_MS);
    }

    function offer(kept, where) {
      var now = snapshot();
      if (!kept || (kept.headline === now.headline && kept.body === now.body)) return;
      var bar = document.createElement("div");
      bar.className = "nl-restore";
      bar.setAttribute("role", "alert");
      var text = document.createElement("p");
      text.textContent = "You have changes to this entry that were not saved (" + where + ").";
      var restore = document.createElement("button");
      restore.type = "button"; restore.className = "nl-button"; restore.textContent = "Restore my changes";
      var drop = document.createElement("button");
      drop.type = "button"; drop.className = "nl-button nl-button--quiet"; drop.textContent = "Discard them";
      restore.addEventListener("click", function () {
        if (headline) headline.value = kept.headline;
        var e = editor();
        if (e) e.setData(kept.body); else textarea.value = kept.body;
        bar.remove();
        changed();
      });
      drop.addEventListener("click", function () {
        bar.remove();
        try { localStorage.removeItem(storageKey); } catch (e) { /* nothing kept */ }
        NLDesk.send(box.dataset.autosaveUrl, { key: key, discard: "1" });
      });
      bar.append(text, restore, drop);
      form.parentNode.insertBefore(bar, form);
    }
    function checkForKept() {
      var local = null;
      try { local = JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (e) { local = null; }
      NLDesk.send(box.dataset.autosaveUrl + "?key=" + encodeURIComponent(key), null, { method: "GET", retry: false }).then(function (answer) {
        var server = answer && answer.autosave;
        // A browser copy from before a save that went through (its version is older) is not offered.
        if (local && (server || String(local.loaded_version) === (version ? version.value : ""))) offer(local, "kept in this browser");
        else if (server) offer(server, "kept on the server at " + server.saved_at);
        save();
      }, function () { if (local) offer(local, "kept in this browser"); save(); });
    }

    if (headline) headline.addEventListener("input", changed);
    textarea.addEventListener("input", changed);
    form.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty && !submitting) { event.preventDefault(); event.returnValue = ""; }
    });
    var started = false;
    function start() { if (!started) { started = true; checkForKept(); } }
    if (window.CKEDITOR) {
      CKEDITOR.on("instanceReady", function (evt) {
        if (evt.editor.name !== "id_body") return;
        evt.editor.on("change", changed);
        start();
      });
      if (editor() && editor().status === "ready") { editor().on("change", changed); start(); }
      setTimeout(start, 3000);
    } else {
      start();
    }
  });
})();
