// Give each rich-text editing area the accessible name of its field's label (WCAG 4.1.2):
// django-prose-editor builds a contenteditable box that screen readers would announce unnamed.
(function () {
  "use strict";
  function nameEditors() {
    document.querySelectorAll('.prose-editor [contenteditable="true"]').forEach(function (box) {
      if (box.hasAttribute("aria-labelledby")) return;
      var row = box.closest(".form-row") || box.closest("div[class*='field-']");
      var area = row && row.querySelector("textarea");
      var label = area && document.querySelector('label[for="' + area.id + '"]');
      if (!label) return;
      if (!label.id) label.id = area.id + "-label";
      box.setAttribute("aria-labelledby", label.id);
      box.setAttribute("aria-multiline", "true");
    });
  }
  // The toolbar greys out unavailable buttons with a class only; say so to assistive
  // technology too (inactive controls are then also exempt from the contrast rule).
  function markDisabledButtons() {
    document.querySelectorAll(".prose-menubar__button").forEach(function (button) {
      var disabled = button.classList.contains("disabled") && !button.classList.contains("active");
      if (button.getAttribute("aria-disabled") !== String(disabled)) {
        button.setAttribute("aria-disabled", String(disabled));
      }
    });
  }
  function update() {
    nameEditors();
    markDisabledButtons();
  }
  new MutationObserver(update).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["class"]
  });
  document.addEventListener("DOMContentLoaded", update);
})();
