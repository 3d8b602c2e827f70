/* Behaviour every page shares, kept out of the markup: the Content-Security-Policy runs
 * no inline script or event handler and applies no style attribute.
 *
 * - [data-width="42.5"] sets the element's width in percent (progress bars), also in
 *   content htmx swaps in later.
 */
(function () {
  "use strict";

  function applyWidths(root) {
    const elements = root.querySelectorAll ? root.querySelectorAll("[data-width]") : [];
    for (const element of [root, ...elements]) {
      if (element.dataset && element.dataset.width !== undefined) {
        const percent = Math.max(0, Math.min(100, Number.parseFloat(element.dataset.width) || 0));
        element.style.width = `${percent}%`;
      }
    }
  }

  document.addEventListener("htmx:load", (event) => applyWidths(event.detail.elt));
  applyWidths(document);
})();
