/* The order form: live line totals, and adding and removing lines in place.
 *
 * "Add line" fetches an empty row with htmx; the row's index is reserved here, from the
 * formset's TOTAL_FORMS, before the request leaves. "Remove" ticks the row's DELETE box
 * and hides the row, so the server still receives every index.
 *
 * Amounts are integer cents (BigInt) rounded half to even like the server's Decimal
 * arithmetic, so the totals shown are the totals the server will store. The server still
 * decides: prices of existing lines, the contract's remaining amount and every rule.
 */
(function () {
  "use strict";

  const form = document.getElementById("order-form");
  if (!form) {
    return;
  }
  const text = JSON.parse(document.getElementById("order-lines-text").textContent);
  const totalForms = form.querySelector('input[name="lines-TOTAL_FORMS"]');
  const currencyInput = form.querySelector('input[name="currency"]');
  const contractSelect = form.querySelector('select[name="contract"]');
  const orderTotal = form.querySelector("[data-order-total]");
  const hint = form.querySelector("[data-contract-hint]");

  let formatter;
  try {
    formatter = new Intl.NumberFormat(document.documentElement.lang || undefined, {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
  } catch (error) {
    formatter = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  /* "12.5" -> 1250n for places = 2; null unless a plain non-negative decimal with at most `places` decimals. */
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

  function divideHalfEven(numerator, denominator) {
    const quotient = numerator / denominator;
    const twice = (numerator % denominator) * 2n;
    if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) {
      return quotient + 1n;
    }
    return quotient;
  }

  function money(cents) {
    return formatter.format(Number(cents) / 100);
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, (match, name) => values[name] ?? match);
  }

  function currency() {
    return (currencyInput ? currencyInput.value : "").trim().toUpperCase();
  }

  /* The row's unit price in cents: the kept price of an existing line, else the product's. */
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
    let total = 0n;
    let complete = true;
    form.querySelectorAll("tr[data-order-line]").forEach((row) => {
      if (row.classList.contains("d-none")) {
        return;
      }
      const select = row.querySelector('select[name$="-product"]');
      const price = unitPrice(row, select);
      const quantity = scaled(row.querySelector('input[name$="-quantity"]').value, 2);
      const discountValue = row.querySelector('input[name$="-discount_percent"]').value;
      const discount = discountValue.trim() === "" ? 0n : scaled(discountValue, 2);
      const priceCell = row.querySelector("[data-price-cell]");
      const totalCell = row.querySelector("[data-total-cell]");

      priceCell.textContent = price.cents === null ? "" : money(price.cents);
      if (price.cents !== null && price.currency && price.currency !== currency()) {
        const note = document.createElement("div");
        note.className = "small text-danger";
        note.textContent = format(text.currency, { currency: price.currency });
        priceCell.appendChild(note);
      }
      if (price.cents === null || quantity === null || discount === null || discount > 10000n) {
        totalCell.textContent = "—";
        if (select.value) {
          complete = false; // a chosen product whose quantity or discount is not a number yet
        }
        return;
      }
      const cents = divideHalfEven(quantity * price.cents * (10000n - discount), 1000000n);
      totalCell.textContent = money(cents);
      total += cents;
    });
    orderTotal.textContent = `${money(total)} ${currency()}`.trim();
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

  form.addEventListener("input", recompute);
  form.addEventListener("change", (event) => {
    if (event.target === contractSelect) {
      const option = contractSelect.selectedOptions[0];
      if (option && option.dataset.currency && currencyInput) {
        currencyInput.value = option.dataset.currency;
      }
    }
    recompute();
  });

  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-line]");
    if (!button) {
      return;
    }
    const row = button.closest("tr[data-order-line]");
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
    const rows = form.querySelectorAll("tr[data-order-line]");
    const added = rows[rows.length - 1];
    if (added) {
      added.querySelector("select").focus();
    }
  });

  recompute();
})();
