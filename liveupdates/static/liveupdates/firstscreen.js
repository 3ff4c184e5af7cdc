/* Newsroom Live: a better first screen on phones (issue 15). Small, dependency-free.
 *
 * The pinned entry is read once: its copy in the timeline just below folds to its headline
 * ("Pinned above"), and a long pinned entry is shortened behind "Show more". On a phone, the
 * key events beyond the first three wait behind "Show all key events". Every copy of an
 * entry stays in the page (live.js reaches them all); only how much of it shows changes.
 * It follows the pinned slot and key events as live.js replaces them.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-share]");
  var entries = document.getElementById("entries");
  if (!root || !entries) return;
  var phone = window.matchMedia ? window.matchMedia("(max-width: 40rem)") : { matches: false };
  var KEY_EVENTS_ON_PHONES = 3;

  function toggle(label, expanded, onClick) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "fold-toggle";
    button.textContent = label;
    button.setAttribute("aria-expanded", expanded ? "true" : "false");
    button.addEventListener("click", onClick);
    return button;
  }

  function foldPinnedCopy() {
    var pinned = document.querySelector("#pinned [data-entry]");
    var pk = pinned ? pinned.getAttribute("data-entry") : null;
    Array.prototype.forEach.call(entries.querySelectorAll(".entry--folded"), function (copy) {
      if (copy.getAttribute("data-entry") !== pk) {
        copy.classList.remove("entry--folded");
        var note = copy.querySelector(".fold-note");
        if (note) note.remove();
      }
    });
    if (!pk) return;
    var copy = entries.querySelector('[data-entry="' + pk + '"]');
    if (!copy || copy.classList.contains("entry--folded") || copy.classList.contains("entry--removed")) return;
    copy.classList.add("entry--folded");
    var note = document.createElement("p");
    note.className = "fold-note";
    var link = document.createElement("a");
    link.href = "#pinned";
    link.textContent = root.dataset.textPinnedAbove;
    note.appendChild(link);
    var meta = copy.querySelector(".entry__meta");
    if (meta) meta.insertAdjacentElement("afterend", note);
  }

  function shortenPinned() {
    var pinned = document.querySelector("#pinned [data-entry]");
    if (!pinned || pinned.querySelector(".fold-toggle")) return;
    var body = pinned.querySelector(".entry__body");
    if (!body || body.scrollHeight <= 240) return;
    pinned.classList.add("entry--short");
    var more = toggle(root.dataset.textMore, false, function () {
      var open = pinned.classList.toggle("entry--short") === false;
      more.setAttribute("aria-expanded", open ? "true" : "false");
      more.textContent = open ? root.dataset.textLess : root.dataset.textMore;
    });
    body.insertAdjacentElement("afterend", more);
  }

  function collapseKeyEvents() {
    var panel = document.getElementById("key-events-panel");
    if (!panel || panel.querySelector(".fold-toggle")) return;
    var items = panel.querySelectorAll("li");
    if (!phone.matches || items.length <= KEY_EVENTS_ON_PHONES) return;
    panel.classList.add("key-events--short");
    var all = toggle(root.dataset.textAllKeyEvents.replace("%(count)s", items.length), false, function () {
      var open = panel.classList.toggle("key-events--short") === false;
      all.setAttribute("aria-expanded", open ? "true" : "false");
      all.textContent = open ? root.dataset.textFewerKeyEvents : root.dataset.textAllKeyEvents.replace("%(count)s", items.length);
    });
    panel.appendChild(all);
  }

  function arrange() {
    try { foldPinnedCopy(); shortenPinned(); collapseKeyEvents(); } catch (error) { /* a nicety: the page reads without it */ }
  }

  arrange();
  if (window.MutationObserver) {
    new MutationObserver(arrange).observe(root, { childList: true, subtree: false });
    new MutationObserver(arrange).observe(entries, { childList: true });
  }
})();
