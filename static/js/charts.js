/* The dashboard's charts: Chart.js (npm package `chart.js`, served from node_modules) draws
 * each chart from the figures the page embeds with `json_script`; the table under it holds
 * the same figures and stays the view without JavaScript. A button switches between the two.
 * Numbers are formatted for the page's language (the <html lang>).
 */
(function () {
  "use strict";

  if (typeof Chart === "undefined") {
    return;
  }
  const lang = document.documentElement.lang || undefined;
  const money = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const count = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  const formats = { money: money, count: count, number: number, percent: percent };
  const palette = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#dc3545", "#ffc107", "#0dcaf0", "#6c757d"];

  function format(kind, value) {
    return (formats[kind] || number).format(value);
  }

  function draw(card) {
    const slug = card.dataset.chart;
    const source = document.getElementById(`chart-data-${slug}`);
    const holder = card.querySelector("[data-chart-canvas]");
    const table = card.querySelector("[data-chart-table]");
    const toggle = card.querySelector("[data-chart-toggle]");
    if (!source || !holder || !table) {
      return;
    }
    const data = JSON.parse(source.textContent);
    const round = data.type === "doughnut";
    const chart = new Chart(holder.querySelector("canvas"), {
      type: data.type,
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set, index) {
          return {
            label: set.label,
            data: set.data,
            backgroundColor: round ? palette : palette[index % palette.length],
            borderColor: round ? "#fff" : palette[index % palette.length],
            tension: 0.2,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: {
          tooltip: {
            callbacks: {
              label: function (item) {
                const kind = data.datasets[item.datasetIndex].format;
                return `${item.dataset.label}: ${format(kind, item.raw)}`;
              },
            },
          },
        },
        scales: round
          ? {}
          : {
              x: { stacked: data.stacked },
              y: {
                stacked: data.stacked,
                beginAtZero: true,
                ticks: {
                  callback: function (value) {
                    return format(data.datasets[0] ? data.datasets[0].format : "number", value);
                  },
                },
              },
            },
      },
    });
    holder.hidden = false;
    table.hidden = true;
    card.dataset.chartDrawn = "true";
    if (toggle) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        const showTable = table.hidden;
        table.hidden = !showTable;
        holder.hidden = showTable;
        toggle.textContent = showTable ? toggle.dataset.labelChart : toggle.dataset.labelTable;
        toggle.setAttribute("aria-pressed", String(showTable));
        if (!showTable) {
          chart.resize();
        }
      });
    }
  }

  document.querySelectorAll("[data-chart]").forEach(draw);
})();
