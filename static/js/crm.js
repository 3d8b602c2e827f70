/* Behaviour every page shares, kept out of the markup: the Content-Security-Policy runs
 * no inline script or event handler and applies no style attribute.
 *
 * - [data-width="42.5"] sets the element's width in percent (progress bars), also in
 *   content htmx swaps in later.
 * - The navigation's search box (#nav-search-q): "/" focuses it, the arrow keys move
 *   between the hits htmx shows under it, Escape closes them and returns to the box.
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

  const searchBox = document.getElementById("nav-search-q");
  const searchResults = document.getElementById("nav-search-results");
  if (searchBox && searchResults) {
    const hits = () => Array.from(searchResults.querySelectorAll("a.search-hit"));
    const close = () => {
      searchResults.replaceChildren();
      searchBox.focus();
    };
    document.addEventListener("keydown", (event) => {
      const typing = event.target.closest("input, textarea, select, [contenteditable]");
      if (event.key === "/" && !typing) {
        event.preventDefault();
        searchBox.focus();
      }
    });
    searchBox.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" && hits().length) {
        event.preventDefault();
        hits()[0].focus();
      } else if (event.key === "Escape") {
        close();
      }
    });
    searchResults.addEventListener("keydown", (event) => {
      const all = hits();
      const at = all.indexOf(document.activeElement);
      if (event.key === "Escape") {
        close();
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const next = at + (event.key === "ArrowDown" ? 1 : -1);
        if (next < 0) searchBox.focus();
        else all[Math.min(next, all.length - 1)].focus();
      }
    });
  }
})();
