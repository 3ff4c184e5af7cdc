/* The desk's compose box, posted in place: no reload, the box clears and keeps focus.
 *
 * Keyboard: Ctrl/Cmd+Enter submits (publishes for those who may), Ctrl/Cmd+S saves a
 * draft, Enter in the headline moves to the text. What is typed is kept twice: in this
 * browser's storage at every change and on the server (a per-user autosave, not a
 * revision) every few seconds; coming back offers to restore it. Without this script the
 * form posts as a plain form and the desk reloads.
 */
(function () {
  "use strict";
  var AUTOSAVE_MS = 3000;

  document.addEventListener("DOMContentLoaded", function () {
    var desk = document.getElementById("desk");
    var form = desk && desk.querySelector(".nl-compose form");
    if (!form || !window.NLDesk) return;
    var headline = form.querySelector("#id_headline");
    var textarea = form.querySelector("#id_body");
    var status = document.getElementById("compose-status");
    var key = "post-" + desk.dataset.post;
    var storageKey = "nl-autosave:" + desk.dataset.user + ":" + key;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    var dirty = false;      // typed since the last server autosave
    var timer = null;
    var sending = false;

    function say(text, level) {
      status.textContent = text;
      status.className = "nl-compose__status" + (level ? " nl-compose__status--" + level : "");
    }
    function editor() { return window.CKEDITOR && CKEDITOR.instances.id_body; }
    function bodyValue() { var e = editor(); return e ? e.getData() : textarea.value; }
    function setBody(html, then) {
      var e = editor();
      textarea.value = html;
      if (e) e.setData(html, { callback: then || function () {} });
      else if (then) then();
    }
    function isEmpty(html) { return !html || !html.replace(/<[^>]*>|&nbsp;|\s/g, ""); }
    function hasWords() { return headline.value.trim() !== "" || !isEmpty(bodyValue()); }

    // --- Scheduling: the browser's zone, said and sent ---------------------------------------
    form.querySelectorAll("[data-zone-input]").forEach(function (input) { input.value = zone; });
    form.querySelectorAll("[data-zone-label]").forEach(function (label) { if (zone) label.textContent = "(" + zone + " time, your computer's zone)"; });
    form.querySelectorAll("[data-reader-zone]").forEach(function (note) {
      var newsroom = note.dataset.readerZone;
      if (zone && newsroom && newsroom !== zone) note.textContent = "Readers see times in " + newsroom + " time.";
    });

    // --- Autosave ----------------------------------------------------------------------------
    function keepLocally() {
      try {
        if (hasWords()) localStorage.setItem(storageKey, JSON.stringify({ headline: headline.value, body: bodyValue(), at: Date.now() }));
        else localStorage.removeItem(storageKey);
      } catch (e) { /* storage full or disabled: the server copy remains */ }
    }
    function changed() {
      dirty = true;
      keepLocally();
      if (!timer) timer = setTimeout(saveToServer, AUTOSAVE_MS);
    }
    function saveToServer() {
      timer = null;
      if (!dirty || sending) return;
      dirty = false;
      if (!hasWords()) {  // an emptied box keeps nothing, and colleagues stop seeing "writing"
        NLDesk.send(desk.dataset.autosaveUrl, { key: key, discard: "1" }, { retry: false }).catch(function () {});
        return;
      }
      NLDesk.send(desk.dataset.autosaveUrl, { key: key, headline: headline.value, body: bodyValue() }, { onStatus: say })
        .then(function (answer) {
          if (answer.ok) say("Draft kept on the server at " + answer.saved_at + ".");
          else say(answer.error, "error");
        });
    }
    function forget() {
      dirty = false;
      try { localStorage.removeItem(storageKey); } catch (e) { /* nothing kept */ }
    }

    function offerRestore(kept, where) {
      if (!kept || isEmpty(kept.body) && !kept.headline) return;
      if (hasWords()) return;
      var bar = document.createElement("div");
      bar.className = "nl-restore";
      bar.setAttribute("role", "alert");
      var text = document.createElement("p");
      text.textContent = "You have words that were not sent (" + where + "): " +
        (kept.headline || kept.body.replace(/<[^>]*>/g, " ").trim().slice(0, 80)) + "…";
      var restore = document.createElement("button");
      restore.type = "button"; restore.className = "nl-button"; restore.textContent = "Restore them";
      var drop = document.createElement("button");
      drop.type = "button"; drop.className = "nl-button nl-button--quiet"; drop.textContent = "Discard";
      restore.addEventListener("click", function () {
        headline.value = kept.headline || "";
        setBody(kept.body || "");
        bar.remove();
        changed();
        headline.focus();
      });
      drop.addEventListener("click", function () {
        bar.remove();
        forget();
        NLDesk.send(desk.dataset.autosaveUrl, { key: key, discard: "1" });
      });
      bar.append(text, restore, drop);
      form.prepend(bar);
    }
    function checkForKept() {
      var local = null;
      try { local = JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (e) { local = null; }
      NLDesk.send(desk.dataset.autosaveUrl + "?key=" + encodeURIComponent(key), null, { method: "GET", retry: false })
        .then(function (answer) {
          var server = answer && answer.autosave;
          if (local && (!server || (local.body !== server.body || local.headline !== server.headline))) {
            offerRestore(local, "kept in this browser");
          } else if (server) {
            offerRestore(server, "kept on the server at " + server.saved_at);
          }
        })
        .catch(function () { offerRestore(local, "kept in this browser"); });
    }

    headline.addEventListener("input", changed);
    textarea.addEventListener("input", changed);
    window.addEventListener("beforeunload", function (event) {
      if ((dirty || sending) && hasWords()) { event.preventDefault(); event.returnValue = ""; }
    });

    // --- Posting in place ----------------------------------------------------------------------
    function showErrors(errors) {
      form.querySelectorAll(".nl-js-error").forEach(function (node) { node.remove(); });
      Object.keys(errors || {}).forEach(function (name) {
        var field = form.querySelector(".nl-field--" + name) || status;
        var note = document.createElement("p");
        note.className = "errornote nl-js-error";
        note.textContent = errors[name].join(" ");
        field.prepend(note);
      });
    }
    function clearBox() {
      headline.value = "";
      // The editor rebuilds its document asynchronously and may take the focus back: focus once it
      // is done, unless the writer has already moved on to the text.
      desk.dataset.clearing = "1";
      var typed = false, current = editor();
      var listener = current && current.on("key", function () { typed = true; });
      setBody("", function () {
        delete desk.dataset.clearing;
        if (listener) listener.removeListener();
        if (!typed) { window.focus(); headline.focus(); }
      });
      ["sources", "tags"].forEach(function (name) {
        var input = form.querySelector("[name=" + name + "]");
        if (!input) return;
        if (input.tagName === "SELECT") { input.value = null; Array.from(input.options).forEach(function (o) { o.selected = false; }); input.dispatchEvent(new Event("change", { bubbles: true })); }
        else input.value = "";
      });
      var at = form.querySelector("[name=at]");
      if (at) at.value = "";
      token = null;  // the next entry is another entry
      forget();
      headline.focus();
    }
    var token = null;
    function newToken() {
      if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
      var b = crypto.getRandomValues(new Uint8Array(16)); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
      var h = Array.from(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    }
    function post(intent, confirmPast) {
      if (sending) return;
      var e = editor();
      if (e) e.updateElement();
      var data = new FormData(form);
      data.set("intent", intent);
      // One token per entry written: a save resent after a lost answer is recognised, never posted twice.
      if (!token) token = newToken();
      data.set("compose_token", token);
      if (confirmPast) data.set("confirm_past", "on");
      sending = true;
      clearTimeout(timer); timer = null;
      say(intent === "draft" ? "Saving…" : "Sending…");
      NLDesk.send(desk.dataset.composeUrl, data, { onStatus: say }).then(function (answer) {
        sending = false;
        if (answer.confirm) {
          if (window.confirm(answer.error)) post(intent, true);
          else say(answer.error + " Choose a later time.", "error");
          return;
        }
        if (answer.row) {
          showErrors({});
          NLDesk.showRow && NLDesk.showRow(answer.entry, answer.row);
          clearBox();
          say(answer.message, answer.ok ? "success" : "error");
          return;
        }
        showErrors(answer.errors);
        say(answer.error, "error");
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var submitter = event.submitter;
      post(submitter && submitter.name === "intent" ? submitter.value : "draft");
    });

    // --- Keyboard ------------------------------------------------------------------------------
    var canPublish = !!form.querySelector("button[value=publish]");
    function onKey(event) {
      var mod = event.ctrlKey || event.metaKey;
      if (mod && event.key === "Enter") { event.preventDefault(); post(canPublish ? "publish" : "submit"); }
      else if (mod && (event.key === "s" || event.key === "S")) { event.preventDefault(); post("draft"); }
    }
    form.addEventListener("keydown", onKey);
    headline.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        var e = editor();
        if (e) e.focus(); else textarea.focus();
      }
    });
    var hooked = false, checked = false;
    function once() { if (!checked) { checked = true; checkForKept(); } }
    function hookEditor(e) {
      if (e.name !== "id_body" || hooked) return;
      hooked = true;
      e.on("change", changed);
      function attach() { e.editable().attachListener(e.document, "keydown", function (evt) { onKey(evt.data.$); }); }
      e.on("contentDom", attach);
      if (e.status === "ready") { attach(); once(); }
      else e.on("instanceReady", once);
    }
    if (window.CKEDITOR) {
      Object.keys(CKEDITOR.instances).forEach(function (name) { hookEditor(CKEDITOR.instances[name]); });
      CKEDITOR.on("instanceCreated", function (evt) { hookEditor(evt.editor); });
      setTimeout(function () { if (!editor()) once(); }, 3000);  // no editor after all: plain textarea
    } else {
      once();
    }
  });
})();
