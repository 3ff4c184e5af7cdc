/* The live desk: give the autocomplete boxes' search fields the name of their field.
 * Select2 (Django admin's autocomplete) makes an unlabelled input and remakes it
 * after every pick; screen readers must still hear "Places", "Sources", ...
 */
(function () {
  "use strict";
  function labelSearchFields(root) {
    root.querySelectorAll(".nl-field").forEach(function (field) {
      var label = field.querySelector("label");
      field.querySelectorAll(".select2-search__field").forEach(function (input) {
        if (label && !input.getAttribute("aria-label")) input.setAttribute("aria-label", label.textContent.replace(/:\s*$/, ""));
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var compose = document.querySelector(".nl-compose");
    if (!compose) return;
    labelSearchFields(compose);
    new MutationObserver(function () { labelSearchFields(compose); }).observe(compose, { childList: true, subtree: true });
  });
})();
