// ms-prcs pages: the one small script, an enhancement only (every page works without it).
// On a run request's page it polls the JSON twin and updates the progress in place instead of
// reloading the page (the <noscript> <meta refresh> does that for browsers without JavaScript).
"use strict";
(function () {
  function poll(box) {
    var url = box.getAttribute("data-poll");
    var field = function (name) { return box.querySelector('[data-field="' + name + '"]'); };
    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (d) {
          field("state").textContent = d.state;
          if (d.progress) {
            field("processed").textContent = d.progress.milestones_processed;
            field("completed").textContent = d.progress.milestones_completed;
          }
          if (d.process_instance && !field("link").querySelector("a")) {
            var a = document.createElement("a");
            a.href = "/runs/" + d.process_instance;
            a.textContent = "Run " + d.process_instance;
            a.setAttribute("data-testid", "run-link");
            field("link").appendChild(a);
          }
          if (d.ended) {
            var bar = field("bar"); bar.max = 1; bar.value = 1;
            box.setAttribute("data-ended", "yes");
          } else {
            setTimeout(tick, 500);
          }
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    tick();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("run-progress");
    if (box && box.getAttribute("data-ended") === "no") {
      poll(box);
    }
  });
})();
