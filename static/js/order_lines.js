/* The order form: live line totals and the contract's remaining amount (static/js/
 * line_form.js holds the arithmetic and the rows added and removed in place). Amounts
 * round half to even like the server's Decimal arithmetic; the server still checks the
 * contract's remaining amount.
 */
(function () {
  "use strict";

  const form = document.getElementById("lines-form");
  if (!form) {
    return;
  }
  const { scaled, divideHalfEven, money, format, lineForm } = window.crmLineForm;
  const text = JSON.parse(document.getElementById("lines-text").textContent);
  const contractSelect = form.querySelector('select[name="contract"]');
  const orderTotal = form.querySelector("[data-order-total]");
  const hint = form.querySelector("[data-contract-hint]");
  const lines = lineForm(form, "tr[data-order-line]", text, recompute);

  function recompute() {
    let total = 0n;
    let complete = true;
    lines.visibleRows().forEach((row) => {
      const price = lines.unitPrice(row);
      const quantity = scaled(row.querySelector('input[name$="-quantity"]').value, 2);
      const discountValue = row.querySelector('input[name$="-discount_percent"]').value;
      const discount = discountValue.trim() === "" ? 0n : scaled(discountValue, 2);
      const totalCell = row.querySelector("[data-total-cell]");
      lines.showPrice(row, price);
      if (price.cents === null || quantity === null || discount === null || discount > 10000n) {
        totalCell.textContent = "—";
        if (row.querySelector('select[name$="-product"]').value) {
          complete = false; // a chosen product whose quantity or discount is not a number yet
        }
        return;
      }
      const cents = divideHalfEven(quantity * price.cents * (10000n - discount), 1000000n);
      totalCell.textContent = money(cents);
      total += cents;
    });
    orderTotal.textContent = `${money(total)} ${lines.currency()}`.trim();
    orderTotal.classList.toggle("text-muted", !complete);
    showContractHint(total);
  }

  function showContractHint(total) {
    const option = contractSelect ? contractSelect.selectedOptions[0] : null;
    const remaining = option ? scaled(option.dataset.remaining, 2) : null;
    if (remaining === null) {
      hint.classList.add("d-none");
      return;
    }
    const values = { remaining: `${money(remaining)} ${option.dataset.currency || ""}`.trim() };
    const exceeds = total > remaining;
    hint.textContent = format(exceeds ? text.exceeds : text.remaining, values);
    hint.classList.toggle("text-danger", exceeds);
    hint.classList.toggle("text-muted", !exceeds);
    hint.classList.remove("d-none");
  }

  // A contract brings its currency (this runs before the form's listener recomputes).
  if (contractSelect) {
    contractSelect.addEventListener("change", () => {
      const option = contractSelect.selectedOptions[0];
      if (option && option.dataset.currency && lines.currencyInput) {
        lines.currencyInput.value = option.dataset.currency;
      }
    });
  }

  recompute();
})();
