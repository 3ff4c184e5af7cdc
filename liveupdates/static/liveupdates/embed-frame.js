/* Newsroom Live: inside an embed (an iframe on another site), tell the host page our height.
 *
 * The host's /embed.js listens, checks that the message comes from our origin and from one
 * of its own iframes, and sizes that iframe. The height is all we send: no reader data.
 * The target origin is "*" because we cannot know the host's; nothing secret travels.
 */
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;

  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "newsroom-embed:height", height: height }, "*");
  }

  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  else setInterval(report, 1000);
  window.addEventListener("load", report);
  report();
})();
