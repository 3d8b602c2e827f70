"""Masking of phone numbers and e-mail addresses for roles that may not see them."""

import re


def mask_phone(phone: str) -> str:
    """`13800135678` -> `138****5678`; separators are dropped, short numbers keep two digits."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    if len(digits) <= 7:
        return "*" * (len(digits) - 2) + digits[-2:]
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(email: str) -> str:
    """`john@example.com` -> `j***@example.com`."""
    if not email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else f"{local[:1]}***"
