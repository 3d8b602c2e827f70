"""A chart is its table: a header, rows of a label and values, and which value columns
are drawn. The page renders the table (it works without JavaScript), `static/js/charts.js`
draws the canvas from the same figures (`chart_data`), and the CSV export writes the table."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format, number_format

MONEY, COUNT, PERCENT, NUMBER = "money", "count", "percent", "number"


@dataclass
class Chart:
    slug: str
    title: Any  # a lazy translation, rendered in the reader's language
    kind: str  # a Chart.js type: bar, line, doughnut
    columns: list[tuple[Any, str]]  # (header, format) of each value column
    rows: list[tuple[Any, list[Any]]] = field(default_factory=list)  # (label, values)
    drawn: list[int] = field(default_factory=lambda: [0])  # the value columns drawn
    label_header: Any = ""
    stacked: bool = False

    @property
    def json_id(self) -> str:
        return f"chart-data-{self.slug}"

    @property
    def empty(self) -> bool:
        return not self.rows

    def header(self) -> list[str]:
        return [str(self.label_header), *(str(title) for title, _format in self.columns)]

    def table(self) -> list[tuple[str, list[str]]]:
        """The rows as the page shows them, every number formatted for the reader's language."""
        return [
            (label, [format_value(value, fmt) for value, (_title, fmt) in zip(values, self.columns, strict=True)])
            for label, values in self.rows
        ]

    def csv_rows(self) -> list[list[Any]]:
        return [[label, *(plain(value) for value in values)] for label, values in self.rows]

    def data(self) -> dict[str, Any]:
        """What charts.js reads through `json_script`."""
        return {
            "type": self.kind,
            "stacked": self.stacked,
            "labels": [str(label) for label, _values in self.rows],
            "datasets": [
                {
                    "label": str(self.columns[index][0]),
                    "data": [float(values[index] or 0) for _label, values in self.rows],
                    "format": self.columns[index][1],
                }
                for index in self.drawn
            ],
        }


def plain(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}"
    return "" if value is None else value


def format_value(value, fmt: str) -> str:
    if value is None:
        return "–"
    if fmt == MONEY:
        return number_format(value, 2, use_l10n=True, force_grouping=True)
    if fmt == PERCENT:
        return number_format(value * 100, 1, use_l10n=True) + "%"
    if fmt == COUNT:
        return number_format(value, 0, use_l10n=True, force_grouping=True)
    return number_format(value, 1, use_l10n=True, force_grouping=True)


def month_label(value) -> str:
    return date_format(value, "YEAR_MONTH_FORMAT")


def day_label(value) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")
