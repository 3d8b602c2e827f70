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


EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s-]{5,}\d")


def mask_text(text: str) -> str:
    """Free text (a contract body, a note) with the e-mail addresses and phone numbers in it masked."""
    if not text:
        return text
    text = EMAIL_IN_TEXT.sub(lambda match: mask_email(match.group()), text)
    return PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)
