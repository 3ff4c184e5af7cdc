/* Newsroom Live: push alerts for a live post (issue 15). Small, dependency-free.
 *
 * Shown only where the browser can do Web Push. "Turn on alerts" asks for permission,
 * registers the service worker (/sw.js, the site's root scope), subscribes with our own
 * VAPID key and sends the subscription to the post's alerts endpoint; "Stop alerts" is
 * one click. No cookies are sent with either request.
 */
(function () {
  "use strict";
  var box = document.querySelector("[data-alerts]");
  if (!box || !window.fetch || !("serviceWorker" in navigator) || !("PushManager" in window) || !window.Notification) return;
  var form = box.querySelector("form");
  var stop = box.querySelector("[data-alerts-stop]");
  var status = box.querySelector("[role=status]");
  var remembered = "newsroom-alerts:" + box.dataset.post;

  function keyBytes(text) {
    var base64 = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function send(url, body) {
    return fetch(url, { method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response; });
  }

  function show(on, text) {
    stop.hidden = !on;
    status.textContent = text || (on ? box.dataset.textOn : box.dataset.textOff);
    try { if (on) localStorage.setItem(remembered, "1"); else localStorage.removeItem(remembered); } catch (error) { /* private mode */ }
  }

  function subscription() {
    return navigator.serviceWorker.register(box.dataset.worker, { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        return registration.pushManager.getSubscription().then(function (existing) {
          return existing || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.key) });
        });
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var keyOnly = form.elements.which.value === "key";
    Promise.resolve(Notification.requestPermission())
      .then(function (permission) {
        if (permission !== "granted") return show(false, box.dataset.textDenied);
        return subscription()
          .then(function (sub) { return send(box.dataset.alerts, { subscription: sub.toJSON(), key_events_only: keyOnly }); })
          .then(function () { show(true); });
      })
      .catch(function () { show(false, box.dataset.textFailed); });
  });

  stop.addEventListener("click", function () {
    navigator.serviceWorker.getRegistration("/")
      .then(function (registration) { return registration && registration.pushManager.getSubscription(); })
      .then(function (sub) { return sub ? send(box.dataset.alertsStop, { endpoint: sub.endpoint }) : null; })
      .then(function () { show(false); })
      .catch(function () { show(false, box.dataset.textFailed); });
  });

  box.hidden = false;
  try { if (localStorage.getItem(remembered)) stop.hidden = false; } catch (error) { /* private mode */ }
})();
