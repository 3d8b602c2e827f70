/* The pipeline board: drag a card to another column to move the opportunity to that stage.
 *
 * SortableJS (npm package `sortablejs`, served from node_modules) does the dragging. A drop
 * posts the same step the card's "move to" form posts (the opportunity's advance step, with
 * the CSRF token), asking for JSON; a refusal puts the card back and says why. The form on
 * every card still works with the keyboard and without JavaScript.
 */
(function () {
  "use strict";

  const board = document.querySelector("[data-board]");
  const status = document.querySelector("[data-board-status]");
  if (!board || typeof Sortable === "undefined") {
    return;
  }

  function csrfToken() {
    const field = board.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function say(text, ok, link) {
    if (!status) {
      return;
    }
    status.className = `alert ${ok ? "alert-success" : "alert-danger"}`;
    status.textContent = text;
    if (link) {
      const anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.textContent = link.text;
      anchor.className = "ms-2";
      anchor.dataset.testid = "plan-next-step";
      status.append(anchor);
    }
  }

  function adjustCount(column, delta) {
    const badge = column.closest("[data-testid=board-column]").querySelector("[data-testid=column-count]");
    if (badge) {
      badge.textContent = String(Number.parseInt(badge.textContent, 10) + delta);
    }
  }

  async function moved(event) {
    const card = event.item;
    const from = event.from;
    const to = event.to;
    if (from === to) {
      return;
    }
    const stage = to.dataset.boardColumn;
    const body = new FormData();
    body.append("stage", stage);
    body.append("csrfmiddlewaretoken", csrfToken());
    let answer = null;
    try {
      const response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        body,
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
      answer = await response.json();
    } catch (error) {
      answer = { ok: false, error: board.dataset.networkError || String(error) };
    }
    if (answer.ok) {
      const select = card.querySelector("select[name=stage]");
      if (select) {
        select.value = stage;
      }
      adjustCount(from, -1);
      adjustCount(to, 1);
      say(answer.message, true, { href: answer.plan_url, text: board.dataset.planLabel });
    } else {
      from.insertBefore(card, from.children[event.oldIndex] || null);
      say(answer.error, false);
    }
  }

  for (const column of board.querySelectorAll("[data-board-column]")) {
    Sortable.create(column, {
      group: "pipeline",
      animation: 150,
      forceFallback: true, // mouse and touch events, the same in every browser (and in tests)
      filter: "form, select, button, a",
      preventOnFilter: false,
      onEnd: moved,
    });
  }
})();
