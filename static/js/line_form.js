/* What the order form (order_lines.js) and the quote form (quote_lines.js) share: amounts
 * as integer cents (BigInt), so the totals shown are the totals the server will store, and
 * the line formset's rows added and removed in place.
 *
 * "Add line" fetches an empty row with htmx; the row's index is reserved here, from the
 * formset's TOTAL_FORMS, before the request leaves. "Remove" ticks the row's DELETE box
 * and hides the row, so the server still receives every index. The server still decides:
 * prices of existing lines and every rule.
 */
window.crmLineForm = (function () {
  "use strict";

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

  /* As the quote's arithmetic rounds (orders.models.quote_line_amounts). */
  function divideHalfUp(numerator, denominator) {
    const quotient = numerator / denominator;
    return (numerator % denominator) * 2n >= denominator ? quotient + 1n : quotient;
  }

  /* As the order's Decimal arithmetic rounds. */
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

  /* Wires the form's line rows (`rowSelector`) to `recompute`, which runs on every edit,
   * added or removed row; returns what a row's figures are read with. */
  function lineForm(form, rowSelector, text, recompute) {
    const totalForms = form.querySelector('input[name="lines-TOTAL_FORMS"]');
    const currencyInput = form.querySelector('input[name="currency"]');

    function currency() {
      return (currencyInput ? currencyInput.value : "").trim().toUpperCase();
    }

    /* The row's unit price in cents: the kept price of an existing line, else the product's. */
    function unitPrice(row) {
      const option = row.querySelector('select[name$="-product"]').selectedOptions[0];
      if (!option || !option.value) {
        return { cents: null, currency: "" };
      }
      if (row.dataset.keptProduct === option.value) {
        return { cents: scaled(row.dataset.keptPrice, 2), currency: currency() };
      }
      return { cents: scaled(option.dataset.unitPrice, 2), currency: option.dataset.currency || "" };
    }

    /* Shows the unit price, with a warning when the product is priced in another currency. */
    function showPrice(row, price) {
      const cell = row.querySelector("[data-price-cell]");
      cell.textContent = price.cents === null ? "" : money(price.cents);
      if (price.cents !== null && price.currency && price.currency !== currency()) {
        const note = document.createElement("div");
        note.className = "small text-danger";
        note.textContent = format(text.currency, { currency: price.currency });
        cell.appendChild(note);
      }
    }

    function visibleRows() {
      return Array.from(form.querySelectorAll(rowSelector)).filter((row) => !row.classList.contains("d-none"));
    }

    form.addEventListener("input", recompute);
    form.addEventListener("change", recompute);
    form.addEventListener("click", (event) => {
      const button = event.target.closest("[data-remove-line]");
      if (!button) {
        return;
      }
      const row = button.closest(rowSelector);
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
      const rows = form.querySelectorAll(rowSelector);
      const added = rows[rows.length - 1];
      if (added) {
        added.querySelector("select").focus();
      }
    });
    return { currency, unitPrice, showPrice, visibleRows, currencyInput };
  }

  return { scaled, divideHalfUp, divideHalfEven, money, format, lineForm };
})();
