// Galenic UI helpers. No inline scripts anywhere (CSP); htmx does the rest.
document.addEventListener("htmx:responseError", function (evt) {
  var target = document.getElementById("htmx-error");
  if (target) { target.textContent = "The server refused the request (" + evt.detail.xhr.status + ")."; }
});
