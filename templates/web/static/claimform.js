// The add form: shows only the fields the chosen kind of claim has, and reads the source's
// words of likelihood on the estimative scale as they are typed (/scale.json). Optional:
// without it every field shows, and "Check" gives the same reading from the server.
(function () {
  "use strict";
  var form = document.querySelector("form.claim-form");
  if (!form) { return; }

  function showKind() {
    var chosen = form.querySelector("input[name=kind]:checked");
    var kind = chosen ? chosen.value : "";
    Array.prototype.forEach.call(form.querySelectorAll("[data-kinds]"), function (group) {
      group.hidden = kind !== "" && group.getAttribute("data-kinds").split(" ").indexOf(kind) < 0;
    });
  }
  Array.prototype.forEach.call(form.querySelectorAll("input[name=kind]"), function (radio) {
    radio.addEventListener("change", showKind);
  });
  showKind();

  var words = document.getElementById("confidence");
  var reading = document.getElementById("confidence-reading");
  if (!words || !reading || !window.fetch) { return; }
  var timer = null;
  var asked = 0;
  function read() {
    var typed = words.value.trim();
    var mine = ++asked;
    if (!typed) { reading.textContent = ""; return; }
    var url = words.getAttribute("data-scale-url") + "?words=" + encodeURIComponent(typed);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (found) {
        if (found && mine === asked) { reading.textContent = found.text; }
      })
      .catch(function () { /* offline: the server reads the words on Check or Save */ });
  }
  words.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(read, 250);
  });
}());
