/* Newsroom Live embeds: size each of our iframes on this page to its content.
 *
 *   <iframe data-newsroom-embed src="https://NEWSROOM/live/POST/embed/" ...></iframe>
 *   <script src="https://NEWSROOM/embed.js" async></script>
 *
 * An embed posts its height to this page; a message is accepted only from the origin
 * this script was loaded from, only from one of this page's iframes, and only as a
 * number of pixels. Without this script the iframe keeps the height the host gave it.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__newsroomEmbeds) return;
  window.__newsroomEmbeds = true;
  var origin = new URL(script.src, document.baseURI).origin;

  window.addEventListener("message", function (event) {
    if (event.origin !== origin) return;
    var data = event.data;
    if (!data || typeof data !== "object" || data.type !== "newsroom-embed:height") return;
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0 || height > 100000) return;
    var frames = document.querySelectorAll("iframe[data-newsroom-embed]");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.ceil(height) + "px";
        frames[i].setAttribute("data-newsroom-sized", "");
      }
    }
  });
})();
