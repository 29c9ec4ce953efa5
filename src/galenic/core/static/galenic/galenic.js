// Galenic UI helpers. No inline scripts anywhere (CSP); htmx does the rest.

// Where a refused or failed htmx request is reported: the page's own #htmx-error, or a banner
// at the top of the content made on first use, so nothing fails silently.
function galenicErrorBox() {
  var target = document.getElementById("htmx-error");
  if (!target) {
    target = document.createElement("div");
    target.id = "htmx-error";
    target.className = "msg msg-error";
    target.setAttribute("role", "alert");
    var main = document.querySelector("main") || document.body;
    main.insertBefore(target, main.firstChild);
  }
  return target;
}

// The server's own words (the error fragment it answered with), else the status.
document.addEventListener("htmx:responseError", function (evt) {
  var xhr = evt.detail.xhr;
  var text = "";
  try {
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var alert = doc.querySelector("[role=alert]");
    text = ((alert || doc.body).textContent || "").replace(/\s+/g, " ").trim();
  } catch (e) { text = ""; }
  galenicErrorBox().textContent = text || ("The server refused the request (" + xhr.status + ").");
});

document.addEventListener("htmx:sendError", function () {
  galenicErrorBox().textContent =
    "The server could not be reached, so this was not saved. Check the connection and try again.";
});

// A new attempt starts with a clean slate.
document.addEventListener("htmx:beforeRequest", function () {
  var target = document.getElementById("htmx-error");
  if (target) { target.textContent = ""; }
});
