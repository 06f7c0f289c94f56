// Tell the server the viewer's time zone, so deadlines are shown in local time.
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* older browsers: times stay in UTC */ }
})();

// The discover filters apply as soon as one changes (the Search button still works without script).
(function () {
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.tagName === "SELECT" && select.form && select.form.getAttribute("role") === "search") {
      select.form.submit();
    }
  });
})();
