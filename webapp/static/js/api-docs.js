// The API documentation page: Swagger UI over the app's own OpenAPI document.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    // No badge from validator.swagger.io: the page asks nothing of other hosts.
    validatorUrl: null,
    // "Try it out" sends the session cookie; a write needs the session's CSRF token too.
    requestInterceptor: function (request) {
      request.headers["X-CSRFToken"] = root.dataset.csrf;
      return request;
    },
  });
});
