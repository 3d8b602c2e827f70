/* The quote form: live net, tax and gross per line and in total, and adding and removing
 * lines in place (as static/js/order_lines.js does for orders).
 *
 * Amounts are integer cents (BigInt) rounded half up, as the server's quote arithmetic
 * (orders.models.quote_line_amounts) rounds, so the totals shown are those it will store.
 */
(function () {
  "use strict";

  const form = document.getElementById("quote-form");
  if (!form) {
    return;
  }
  const text = JSON.parse(document.getElementById("quote-lines-text").textContent);
  const totalForms = form.querySelector('input[name="lines-TOTAL_FORMS"]');
  const currencyInput = form.querySelector('input[name="currency"]');
  const cells = {
    net: form.querySelector("[data-quote-net]"),
    tax: form.querySelector("[data-quote-tax]"),
    gross: form.querySelector("[data-quote-gross]"),
  };
  let formatter;
  try {
    formatter = new Intl.NumberFormat(document.documentElement.lang || undefined, {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
  } catch (error) {
    formatter = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  /* "12.5" -> 1250n for places = 2; null unless a plain non-negative decimal. */
  function scaled(value, places) {
    const plain = String(value || "").trim();
    if (!/^\d+(\.\d*)?$|^\.\d+$/.test(plain)) {
      return null;
    }
    const [whole, fraction = ""] = plain.split(".");
    if (fraction.length > places) {
      return null;
    }
    return BigInt((whole || "0") + fraction.padEnd(places, "0"));
  }

  function divideHalfUp(numerator, denominator) {
    const quotient = numerator / denominator;
    return (numerator % denominator) * 2n >= denominator ? quotient + 1n : quotient;
  }

  function money(cents) {
    return formatter.format(Number(cents) / 100);
  }

  function currency() {
    return (currencyInput ? currencyInput.value : "").trim().toUpperCase();
  }

  function percent(row, name) {
    const value = row.querySelector(`input[name$="-${name}"]`).value;
    return value.trim() === "" ? (name === "tax_rate" ? null : 0n) : scaled(value, 2);
  }

  function unitPrice(row, select) {
    const option = select.selectedOptions[0];
    if (!option || !option.value) {
      return { cents: null, currency: "" };
    }
    if (row.dataset.keptProduct === option.value) {
      return { cents: scaled(row.dataset.keptPrice, 2), currency: currency() };
    }
    return { cents: scaled(option.dataset.unitPrice, 2), currency: option.dataset.currency || "" };
  }

  function recompute() {
    const totals = { net: 0n, tax: 0n, gross: 0n };
    form.querySelectorAll("tr[data-quote-line]").forEach((row) => {
      if (row.classList.contains("d-none")) {
        return;
      }
      const select = row.querySelector('select[name$="-product"]');
      const price = unitPrice(row, select);
      const quantity = scaled(row.querySelector('input[name$="-quantity"]').value, 2);
      const discount = percent(row, "discount_percent");
      const taxRate = percent(row, "tax_rate");
      const priceCell = row.querySelector("[data-price-cell]");
      const totalCell = row.querySelector("[data-total-cell]");
      priceCell.textContent = price.cents === null ? "" : money(price.cents);
      if (price.cents !== null && price.currency && price.currency !== currency()) {
        const note = document.createElement("div");
        note.className = "small text-danger";
        note.textContent = text.currency.replace("%(currency)s", price.currency);
        priceCell.appendChild(note);
      }
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
      cells[name].textContent = `${money(totals[name])} ${currency()}`.trim();
    }
  }

  form.addEventListener("input", recompute);
  form.addEventListener("change", recompute);
  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-line]");
    if (!button) {
      return;
    }
    const row = button.closest("tr[data-quote-line]");
    const remove = row.querySelector('input[name$="-DELETE"]');
    if (remove) {
      remove.checked = true;
    }
    row.classList.add("d-none");
    recompute();
  });
  document.body.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt.matches && event.detail.elt.matches("[data-add-line]")) {
      const index = parseInt(totalForms.value, 10) || 0;
      event.detail.parameters.index = String(index);
      totalForms.value = String(index + 1);
    }
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (!form.contains(event.detail.target)) {
      return;
    }
    recompute();
    const rows = form.querySelectorAll("tr[data-quote-line]");
    const added = rows[rows.length - 1];
    if (added) {
      added.querySelector("select").focus();
    }
  });
  recompute();
})();
