"""Signing backends, chosen by dotted path in `SIGNING_BACKENDS`."""
