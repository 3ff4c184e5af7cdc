/* Newsroom Live, CKEditor 4 plugin "newsroomcards": a link or a network's embed code pasted alone
   becomes a card, previewed under the editor before the entry is saved.

   The server does the work (admin:liveupdates_card_preview: recognise, fetch once, archive); this
   only asks it on an explicit paste, never on an autosave. What the server cannot understand is
   pasted as plain text and its sentence is shown: nothing pasted disappears. */
(function () {
  "use strict";
  var LONE_LINK = /^(https?:\/\/|www\.|youtu\.be\/|t\.me\/)\S+$/i;
  var EMBED = /^<(blockquote|iframe|script|div)\b[\s\S]*>$/i;

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function panelFor(editor) {
    var id = "nl-card-previews-" + editor.name;
    var panel = document.getElementById(id);
    if (!panel) {
      panel = document.createElement("div");
      panel.id = id;
      panel.className = "nl-card-previews";
      panel.setAttribute("aria-live", "polite");
      var container = editor.container.$;
      container.parentNode.insertBefore(panel, container.nextSibling);
    }
    return panel;
  }

  function note(panel, className, text) {
    var line = document.createElement("p");
    line.className = className;
    line.textContent = text;
    panel.appendChild(line);
    return line;
  }

  CKEDITOR.plugins.add("newsroomcards", {
    init: function (editor) {
      var url = editor.config.newsroomCardPreviewUrl;
      if (!url) return;
      editor.on("paste", function (event) {
        var transfer = event.data.dataTransfer;
        var text = (transfer && transfer.getData("text/plain")) || "";
        if (!text) {
          var scratch = document.createElement("div");
          scratch.innerHTML = event.data.dataValue || "";
          text = scratch.textContent || "";
        }
        text = text.trim();
        if (!(LONE_LINK.test(text) || EMBED.test(text))) return;
        event.cancel();
        var panel = panelFor(editor);
        var waiting = note(panel, "nl-card-previews__waiting", "Making a card for " + text.slice(0, 80) + "…");
        var body = new FormData();
        body.append("text", text);
        fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            waiting.remove();
            if (!data.ok) {
              note(panel, "nl-card-previews__error", data.error || "This could not become a card.");
              editor.insertText(text);
              return;
            }
            // The card on its own, then a fresh paragraph for the caret, so the next paste never lands inside it.
            var element = CKEDITOR.dom.element.createFromHtml(data.placeholder, editor.document);
            editor.insertElement(element);
            var paragraph = new CKEDITOR.dom.element("p", editor.document);
            paragraph.appendBogus();
            paragraph.insertAfter(element);
            var range = editor.createRange();
            range.moveToElementEditStart(paragraph);
            range.select();
            var preview = document.createElement("div");
            preview.className = "nl-card-preview";
            preview.setAttribute("data-card-preview", data.id);
            preview.innerHTML = data.html; // the server's own template, every field escaped
            var edit = document.createElement("a");
            edit.href = data.edit_url;
            edit.target = "_blank";
            edit.textContent = data.warning ? "Complete this card by hand" : "Edit this card";
            preview.appendChild(edit);
            if (data.warning) note(preview, "nl-card-previews__error", data.warning);
            panel.appendChild(preview);
          })
          .catch(function () {
            waiting.remove();
            note(panel, "nl-card-previews__error", "The card could not be made now (offline?). The link was pasted as text; it becomes a card when you save.");
            editor.insertText(text);
          });
      });
    }
  });
})();
