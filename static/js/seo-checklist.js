// The article's SEO checklist, checked again as the editor types. After a pause the form's
// fields are posted to the admin's checklist address and the panel shows the answer; only the
// checks that changed are replaced, so the live region announces those and not the whole list.
// Without JavaScript the server renders the same panel on every load and save.
(function () {
  "use strict";

  var PAUSE_MS = 600;

  function start() {
    var results = document.getElementById("seo-checklist-results");
    var form = results && results.closest("form");
    if (!form || !results.dataset.url) return;
    var timer = null;
    var controller = null;

    // The form as typed so far. A chosen hero image travels as its name only: the checklist
    // needs to know there is one, not its bytes on every pause.
    function payload() {
      var data = new FormData();
      new FormData(form).forEach(function (value, key) {
        if (typeof value === "string") {
          data.append(key, value);
        } else if (value.name) {
          data.append(key, value.name);
        }
      });
      return data;
    }

    function ids(root) {
      return Array.prototype.map.call(root.querySelectorAll("[id]"), function (node) {
        return node.id;
      }).join(" ");
    }

    function show(html) {
      var fresh = document.createElement("div");
      fresh.innerHTML = html;
      if (ids(fresh) !== ids(results)) {
        results.replaceChildren.apply(results, Array.prototype.slice.call(fresh.childNodes));
        return;
      }
      fresh.querySelectorAll("h3[id], li[id]").forEach(function (node) {
        var current = document.getElementById(node.id);
        if (current && current.outerHTML !== node.outerHTML) current.replaceWith(node.cloneNode(true));
      });
    }

    function check() {
      if (controller) controller.abort();
      controller = new AbortController();
      fetch(results.dataset.url, {
        method: "POST",
        body: payload(),
        credentials: "same-origin",
        signal: controller.signal,
      })
        .then(function (response) {
          // A redirect means the session ended (the login page): keep the last checklist.
          if (!response.ok || response.redirected) {
            throw new Error("SEO checklist: HTTP " + response.status);
          }
          return response.text();
        })
        .then(show)
        .catch(function () {
          // Keep the last checklist: the next pause, or saving, checks again.
        });
    }

    function schedule(event) {
      if (results.contains(event.target)) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(check, PAUSE_MS);
    }

    // The rich-text editor copies its HTML into the field's textarea and fires a bubbling
    // `input` event on it (django-prose-editor), so listening on the form covers it too.
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
