/* Newsroom Live's service worker: it shows push alerts for the live posts a reader chose, nothing else.
 * No caching, no fetch handler: pages always come from the network. */
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { return; }
  if (!data.title) return;
  event.waitUntil(self.registration.showNotification(String(data.title), {
    body: String(data.body || ""),
    tag: String(data.tag || ""),
    data: { url: String(data.url || "/") }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL(event.notification.data && event.notification.data.url || "/", self.location.origin);
  if (url.origin !== self.location.origin) return; // our own pages only
  event.waitUntil(self.clients.openWindow(url.href));
});
