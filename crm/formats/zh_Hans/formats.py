"""Simplified Chinese formats that differ from Django's: money reads 1,200,000.00 (Django
groups by four digits without a separator, which no Chinese invoice does). Everything else
(dates as 2026年9月5日 where a template does not ask for ISO, input formats) is Django's."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
