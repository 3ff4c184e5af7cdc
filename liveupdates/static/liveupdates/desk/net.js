/* The desk's one way to talk to the server: NLDesk.send(url, data, options) -> Promise of the JSON answer.
 *
 * It never loses what it carries. A network failure or a 5xx is retried with a growing
 * pause (saying so through options.onStatus); an expired session opens a login dialog and
 * the request is sent again once logged in; a stale CSRF token (a login in another tab)
 * is refreshed from the session endpoint and the request resent. Only the server's own
 * answer (success or a refusal in plain words) settles the promise.
 */
(function () {
  "use strict";
  var HEADER = "newsroom-desk";
  var token = null;
  var loggingIn = null;
  var logins = 0;  // logins completed in this page: a "not logged in" that predates one is stale

  function root() { return document.querySelector("[data-session-url]"); }
  function csrfToken() {
    if (token) return token;
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function refreshToken() {
    return fetch(root().dataset.sessionUrl, { credentials: "same-origin", headers: { "X-Requested-With": HEADER } })
      .then(function (response) { return response.json(); })
      .then(function (json) {
        token = json.csrf;
        document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (input) { input.value = token; });
        return json;
      });
  }

  function loginDialog(message) {
    if (loggingIn) return loggingIn;
    loggingIn = new Promise(function (resolve) {
      var dialog = document.createElement("dialog");
      dialog.className = "nl-login";
      dialog.setAttribute("aria-labelledby", "nl-login-title");
      dialog.innerHTML =
        '<form method="dialog"><h2 id="nl-login-title"></h2><p class="nl-login__why"></p>' +
        '<p><label for="nl-login-user"></label><input id="nl-login-user" name="username" autocomplete="username" required></p>' +
        '<p><label for="nl-login-password"></label><input id="nl-login-password" name="password" type="password" autocomplete="current-password" required></p>' +
        '<p class="errornote" role="alert" hidden></p><button class="nl-button" type="submit"></button></form>';
      dialog.querySelector("h2").textContent = "Log in again to send your work";
      dialog.querySelector(".nl-login__why").textContent = message + " Nothing you typed is lost.";
      dialog.querySelector("label[for=nl-login-user]").textContent = "Username";
      dialog.querySelector("label[for=nl-login-password]").textContent = "Password";
      dialog.querySelector("button").textContent = "Log in and send";
      var form = dialog.querySelector("form");
      var error = dialog.querySelector(".errornote");
      dialog.addEventListener("cancel", function (event) { event.preventDefault(); });  // the words wait for the login
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        error.hidden = true;
        refreshToken().then(function () {
          var body = new FormData(form);
          return fetch(root().dataset.sessionUrl, {
            method: "POST", body: body, credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": HEADER }
          });
        }).then(function (response) { return response.json(); }).then(function (json) {
          if (!json.ok) { error.textContent = json.error; error.hidden = false; return; }
          token = json.csrf;
          document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (input) { input.value = token; });
          dialog.close();
          dialog.remove();
          logins += 1;
          loggingIn = null;
          resolve();
        }).catch(function () {
          error.textContent = "The server cannot be reached. Check the connection and try again.";
          error.hidden = false;
        });
      });
      document.body.appendChild(dialog);
      dialog.showModal();
      dialog.querySelector("#nl-login-user").focus();
    });
    return loggingIn;
  }

  function body(data) {
    if (data instanceof FormData) return data;
    var form = new FormData();
    Object.keys(data || {}).forEach(function (key) { form.append(key, data[key]); });
    return form;
  }

  /* options: method ("POST"), onStatus(text, level) for retries, retry (true): false gives up after one failure. */
  function send(url, data, options) {
    options = options || {};
    var method = options.method || (data ? "POST" : "GET");
    var attempt = 0;
    var csrfRetried = false;
    var say = options.onStatus || function () {};
    function once() {
      var init = { method: method, credentials: "same-origin", headers: { "X-Requested-With": HEADER, "Accept": "application/json" } };
      if (method !== "GET") {
        init.body = body(data);
        // Django reads a form's own token before the header: a stale one in the form would win.
        if (init.body.has("csrfmiddlewaretoken")) init.body.set("csrfmiddlewaretoken", csrfToken());
        init.headers["X-CSRFToken"] = csrfToken();
      }
      return fetch(url, init).then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0 ? response.json() : Promise.resolve(null);
        return json.then(function (answer) {
          if (response.status === 401 || (answer === null && response.redirected && /\/login\//.test(response.url))) {
            // Another tab may have logged in again meanwhile: ask before asking the person.
            // A request refused before this page's own login finished is simply sent again.
            var seen = logins;
            return refreshToken().then(function (session) {
              if (session.authenticated || logins !== seen) return once();
              say("Your session has expired: log in again to send this.", "error");
              return loginDialog((answer && answer.error) || "Your session has expired.").then(once);
            });
          }
          if (response.status === 403 && answer && answer.csrf) {
            if (csrfRetried) return loginDialog(answer.error).then(once);
            csrfRetried = true;
            var before = logins;
            return refreshToken().then(function (session) {
              if (!session.authenticated && logins === before) return loginDialog("Your session has expired.").then(once);
              return once();
            });
          }
          if (response.status === 413 && answer === null) {
            // The proxy's own refusal (nginx's client_max_body_size), before Django could answer in
            // JSON: the same bytes would be refused again, so say why instead of retrying.
            return { ok: false, errors: {}, error: "This is too big to send. It is kept in this browser; " +
              "split the text into several entries, or link to the full document." };
          }
          if (response.status >= 500 || answer === null) throw new Error("server " + response.status);
          return answer;
        });
      }).catch(function (failure) {
        if (options.retry === false) throw failure;
        attempt += 1;
        var pause = Math.min(15, Math.pow(2, attempt - 1));
        say("Not sent yet: " + (/^server/.test(failure.message) ? "the server did not answer" : "the connection failed") +
            ". Retrying in " + pause + " s; your text is kept.", "error");
        return wait(pause * 1000).then(once);
      });
    }
    return once();
  }

  window.NLDesk = { send: send, refreshToken: refreshToken, header: HEADER, csrfToken: csrfToken };
})();
