/* An edit conflict, merged by the second person to save (entry/change_form.html).
 *
 * The server refused a stale save and sent both versions: side by side, word by
 * word, and as JSON (#nl-conflict-versions: theirs with the version now saved, and
 * mine as typed). Here the person chooses what goes into the form: keep mine, take
 * theirs, keep both (keepBoth, under my headline), or edit by hand; the form is then
 * saved against their version, so a third save in between is caught again by the same
 * lock. Without this script the form still holds mine and saving keeps it (the server
 * has moved the version on). The words on the buttons and in the status line come
 * from the template, translated.
 */
(function () {
  "use strict";

  function editor() { return window.CKEDITOR && CKEDITOR.instances.id_body; }

  function blocks(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html || "";
    return Array.from(holder.content.childNodes).filter(function (node) {
      return node.nodeType === 1 || node.textContent.trim() !== "";
    });
  }
  function markup(node) {
    if (node.nodeType === 1) return node.outerHTML;
    var p = document.createElement("p");
    p.textContent = node.textContent.trim();
    return p.outerHTML;
  }
  function text(node) { return node.textContent.replace(/\s+/g, " ").trim(); }

  /* Both versions in one text, in my order: each of my paragraphs, or their version of it
   * when theirs only adds to it ("Seven strikes." -> "Seven strikes. 14 killed."); then
   * the paragraphs only they have. A paragraph one version holds whole is not repeated;
   * a photo (no text) is the same photo when its markup is the same.
   */
  function keepBoth(mine, theirs) {
    var left = blocks(theirs);
    function take(test) {
      for (var i = 0; i < left.length; i++) if (test(left[i])) return left.splice(i, 1)[0];
      return null;
    }
    var merged = blocks(mine).map(function (node) {
      var words = text(node);
      if (!words) { take(function (other) { return markup(other) === markup(node); }); return node; }
      if (take(function (other) { return text(other) === words; })) return node;
      var longer = take(function (other) { return text(other).indexOf(words) !== -1; });
      if (longer) return longer;
      take(function (other) { return text(other) && words.indexOf(text(other)) !== -1; });  // mine holds theirs whole
      return node;
    });
    return merged.concat(left).map(markup).join("");
  }

  window.NLMerge = { keepBoth: keepBoth };

  document.addEventListener("DOMContentLoaded", function () {
    var json = document.getElementById("nl-conflict-versions");
    var box = document.querySelector("[data-merge]");
    var form = document.getElementById("entry_form");
    if (!json || !box || !form) return;
    var versions = JSON.parse(json.textContent);
    var headline = form.querySelector("#id_headline");
    var textarea = form.querySelector("#id_body");
    var version = form.querySelector("[name=loaded_version]");
    var status = box.querySelector("[data-merge-status]");
    box.hidden = false;

    function put(title, html) {
      if (version) version.value = versions.theirs.version;
      if (headline) {
        headline.value = title;
        headline.dispatchEvent(new Event("input", { bubbles: true }));  // edit.js autosaves the merge
      }
      textarea.value = html;
      var e = editor();
      if (e) e.setData(html, { callback: function () { e.fire("change"); } });
      else textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    function say(choice) {
      status.textContent = status.getAttribute("data-said-" + choice) || "";
    }
    var choices = {
      mine: function () { put(versions.mine.headline, versions.mine.body); },
      theirs: function () { put(versions.theirs.headline, versions.theirs.body); },
      both: function () {
        put(versions.mine.headline || versions.theirs.headline, keepBoth(versions.mine.body, versions.theirs.body));
      },
      edit: function () {
        if (version) version.value = versions.theirs.version;
        var e = editor();
        (e ? e.container.$ : textarea).scrollIntoView({ block: "center" });
        if (e) e.focus(); else textarea.focus();
      }
    };
    box.addEventListener("click", function (event) {
      var button = event.target.closest("[data-merge-choice]");
      if (button) {
        var choice = button.getAttribute("data-merge-choice");
        choices[choice]();
        say(choice);
        return;
      }
      if (event.target.closest("[data-merge-save]")) {
        var e = editor();
        if (e) e.updateElement();
        if (version) version.value = versions.theirs.version;
        form.requestSubmit(form.querySelector("[name=_save]") || undefined);
      }
    });
  });
})();
