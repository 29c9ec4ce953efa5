// MBR builder: keep the sections a person opened open when htmx redraws the builder (a reopened
// step loads its forms again), and open the step a problem link points to.
(function () {
  var open = null;
  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (!evt.detail.target || evt.detail.target.id !== "builder") { return; }
    open = Array.prototype.map.call(document.querySelectorAll("#builder details[open]"), function (d) { return d.id; });
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    if (!open || !evt.detail.target || evt.detail.target.id !== "builder") { return; }
    open.forEach(function (id) {
      var d = id && document.getElementById(id);
      if (d && !d.open) { d.open = true; }
    });
    open = null;
    var focus = document.querySelector("#builder [data-focus]");
    if (focus) { focus.scrollIntoView({block: "nearest"}); }
  });
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest(".problem-list a");
    if (!link) { return; }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    var details = target && target.closest("details");
    while (details) { details.open = true; details = details.parentElement.closest("details"); }
  });
})();
