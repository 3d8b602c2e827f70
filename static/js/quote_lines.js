/* The quote form: live net, tax and gross per line and in total (static/js/line_form.js
 * holds the arithmetic and the rows added and removed in place). Amounts round half up, as
 * the server's quote arithmetic (orders.models.quote_line_amounts) does.
 */
(function () {
  "use strict";

  const form = document.getElementById("lines-form");
  if (!form) {
    return;
  }
  const { scaled, divideHalfUp, money, lineForm } = window.crmLineForm;
  const text = JSON.parse(document.getElementById("lines-text").textContent);
  const cells = {
    net: form.querySelector("[data-quote-net]"),
    tax: form.querySelector("[data-quote-tax]"),
    gross: form.querySelector("[data-quote-gross]"),
  };
  const lines = lineForm(form, "tr[data-quote-line]", text, recompute);

  function percent(row, name) {
    const value = row.querySelector(`input[name$="-${name}"]`).value;
    return value.trim() === "" ? (name === "tax_rate" ? null : 0n) : scaled(value, 2);
  }

  function recompute() {
    const totals = { net: 0n, tax: 0n, gross: 0n };
    lines.visibleRows().forEach((row) => {
      const price = lines.unitPrice(row);
      const quantity = scaled(row.querySelector('input[name$="-quantity"]').value, 2);
      const discount = percent(row, "discount_percent");
      const taxRate = percent(row, "tax_rate");
      const totalCell = row.querySelector("[data-total-cell]");
      lines.showPrice(row, price);
      if ([price.cents, quantity, discount, taxRate].includes(null) || discount > 10000n || taxRate > 10000n) {
        totalCell.textContent = "—";
        return;
      }
      // quantity (2 places) × price (cents) × (100 − discount) (2 places) / 100: cents.
      const net = divideHalfUp(quantity * price.cents * (10000n - discount), 1000000n);
      const tax = divideHalfUp(net * taxRate, 10000n);
      totalCell.textContent = money(net + tax);
      totals.net += net;
      totals.tax += tax;
      totals.gross += net + tax;
    });
    for (const name of Object.keys(cells)) {
      cells[name].textContent = `${money(totals[name])} ${lines.currency()}`.trim();
    }
  }

  recompute();
})();
