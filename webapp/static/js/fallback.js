// Loaded right after a library's CDN <script>: when the CDN did not answer (offline demo,
// CI, a blocked network) the library's global is missing, so load the local copy in its place.
// document.write keeps it parser-blocking, so htmx still starts on DOMContentLoaded.
(function () {
  var me = document.currentScript;
  if (!window[me.dataset.global]) {
    document.write('<script src="' + me.dataset.local + '"><\/script>');
  }
})();
