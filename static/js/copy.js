// "Copy the address" buttons (data-copy="<input id>"): shown only with JavaScript; the result
// is announced in the matching data-copy-status element. Without JavaScript the address stays
// selectable in its read-only field.
(function () {
  "use strict";
  var messages = document.getElementById("copy-messages");
  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) status.textContent = text;
  }
  function fallback(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var id = button.getAttribute("data-copy");
    var input = document.getElementById(id);
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var copied = messages ? messages.getAttribute("data-copied") : "";
      var failed = messages ? messages.getAttribute("data-failed") : "";
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () {
          say(id, copied);
        }, function () {
          say(id, fallback(input) ? copied : failed);
        });
      } else {
        say(id, fallback(input) ? copied : failed);
      }
    });
  });
})();
