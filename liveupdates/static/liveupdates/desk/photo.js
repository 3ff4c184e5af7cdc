/* The desk's photo panel: pick a photo (or take one on a phone), describe it, caption and
 * credit it, and it goes into the text as <figure><img><figcaption>caption
 * <span class="credit">credit</span></figcaption></figure>, the markup the server's
 * sanitiser keeps. The uploader verifies, strips and scales the photo; its refusals are
 * shown here in its own plain words. In the editor, photos are shown at the editor's width.
 * A photo dropped or pasted into the text comes here too, to be described before it goes in.
 */
(function () {
  "use strict";
  var EDITOR_STYLE = "img{max-width:100%;height:auto}figure{margin:.5em 0}figcaption{font-size:.85em;color:#555}.credit{font-style:italic}";

  function escape(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML.replace(/"/g, "&quot;");
  }

  var offerPhoto = null;  // set once the desk's panel is ready: (file) -> the panel opens with it

  function imageIn(dataTransfer) {
    for (var i = 0; i < dataTransfer.getFilesCount(); i++) {
      var file = dataTransfer.getFile(i);
      if (file && /^image\//.test(file.type)) return file;
    }
    return null;
  }

  function prepareEditor(editor) {
    editor.filter.allow("figure figcaption; span(credit); img[!src,alt,width,height]", "newsroomPhoto");
    function style() { if (editor.document) editor.document.appendStyleText(EDITOR_STYLE); }
    editor.on("contentDom", style);
    if (editor.status === "ready") style();
    // A photo dropped or pasted into the text opens the panel (description, caption, credit)
    // instead of going in bare: ahead of CKEditor's own uploader (priority 10), which never sees it.
    editor.on("paste", function (evt) {
      var file = offerPhoto && evt.data.dataTransfer && imageIn(evt.data.dataTransfer);
      if (!file) return;
      evt.cancel();
      offerPhoto(file);
    }, null, null, 1);
  }
  if (window.CKEDITOR) {
    Object.keys(CKEDITOR.instances).forEach(function (name) { CKEDITOR.instances[name].on("instanceReady", function (evt) { prepareEditor(evt.editor); }); });
    CKEDITOR.on("instanceCreated", function (evt) { evt.editor.on("instanceReady", function () { prepareEditor(evt.editor); }); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.querySelector(".nl-photo");
    if (!panel || !window.CKEDITOR) return;
    panel.hidden = false;
    var file = panel.querySelector("#photo-file");
    var alt = panel.querySelector("#photo-alt");
    var caption = panel.querySelector("#photo-caption");
    var credit = panel.querySelector("#photo-credit");
    var status = panel.querySelector(".nl-photo__status");
    var button = panel.querySelector("[data-photo-insert]");
    function say(text, error) { status.textContent = text; status.className = "nl-photo__status" + (error ? " nl-compose__status--error" : ""); }

    offerPhoto = function (dropped) {
      var files = new DataTransfer();
      files.items.add(dropped);
      file.files = files.files;
      panel.scrollIntoView({ block: "nearest" });
      alt.focus();
      say(panel.dataset.saidDropped);
    };

    button.addEventListener("click", function () {
      if (!file.files.length) { say("Choose a photo first.", true); file.focus(); return; }
      if (!alt.value.trim()) { say("Describe what the photo shows: readers who cannot see it need this.", true); alt.focus(); return; }
      var data = new FormData();
      data.append("upload", file.files[0]);
      button.disabled = true;
      say("Uploading the photo… (a large photo is scaled down; this can take a few seconds)");
      // The uploader refuses a request without a CSRF token (editorial/uploads.py).
      var token = window.NLDesk ? NLDesk.csrfToken() : (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value;
      fetch(panel.dataset.uploadUrl, { method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": token || "" } })
        .then(function (response) {
          return response.json().catch(function () { return { uploaded: 0, error: { message: "The server could not take the photo (" + response.status + "). Try again in a moment." } }; });
        })
        .then(function (answer) {
          button.disabled = false;
          if (!answer.uploaded) { say(answer.error && answer.error.message || "The photo was not accepted.", true); return; }
          var text = caption.value.trim(), by = credit.value.trim();
          var html = '<figure><img src="' + escape(answer.url) + '" alt="' + escape(alt.value.trim()) + '">';
          if (text || by) html += "<figcaption>" + escape(text) + (text && by ? " " : "") + (by ? '<span class="credit">' + escape(by) + "</span>" : "") + "</figcaption>";
          html += "</figure><p></p>";
          var editor = CKEDITOR.instances.id_body;
          editor.focus();
          editor.insertHtml(html);
          file.value = ""; alt.value = ""; caption.value = ""; credit.value = "";
          say("The photo is in the text.");
        })
        .catch(function () {
          button.disabled = false;
          say("The photo could not be sent: the connection failed. Check it and press the button again; nothing was lost.", true);
        });
    });
  });
})();
