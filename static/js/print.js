// Buttons marked data-print open the browser's print dialog (no inline handler, so a
// Content-Security-Policy without 'unsafe-inline' allows it).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
