/* Newsroom Live: share and copy-link buttons on each entry (issue 15). Small, dependency-free.
 *
 * Each entry's time is already its permalink (readable and shareable without this script).
 * With it, every entry, including those that arrive live, gets a "Share" button where the
 * browser has the Web Share API, and a "Copy link" button where it can write to the clipboard.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-share]");
  if (!root) return;
  var canShare = typeof navigator.share === "function";
  var canCopy = !!(navigator.clipboard && navigator.clipboard.writeText);
  if (!canShare && !canCopy) return;

  function button(label, action) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "entry__share";
    element.textContent = label;
    element.addEventListener("click", action);
    return element;
  }

  function enhance(article) {
    if (!article.matches || !article.matches("article[data-entry]") || article.querySelector(".entry__share")) return;
    var link = article.querySelector("a.entry__time");
    var meta = article.querySelector(".entry__meta");
    if (!link || !meta) return;
    var url = new URL(link.getAttribute("href"), document.baseURI).href;
    var headline = article.querySelector(".entry__headline");
    var title = (headline ? headline.textContent : document.title).trim();
    if (canShare) {
      meta.appendChild(button(root.dataset.textShare, function () {
        navigator.share({ title: title, url: url }).catch(function () { /* the reader closed the sheet */ });
      }));
    }
    if (canCopy) {
      var copy = button(root.dataset.textCopy, function () {
        navigator.clipboard.writeText(url).then(function () {
          copy.textContent = root.dataset.textCopied;
          setTimeout(function () { copy.textContent = root.dataset.textCopy; }, 2000);
        });
      });
      meta.appendChild(copy);
    }
  }

  function enhanceAll(node) {
    if (node.nodeType !== 1) return;
    enhance(node);
    Array.prototype.forEach.call(node.querySelectorAll("article[data-entry]"), enhance);
  }

  enhanceAll(root);
  if (window.MutationObserver) {
    new MutationObserver(function (changes) {
      changes.forEach(function (change) { Array.prototype.forEach.call(change.addedNodes, enhanceAll); });
    }).observe(root, { childList: true, subtree: true });
  }
})();
