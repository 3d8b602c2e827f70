"""The one presentation layer for contact details: phone numbers and e-mail addresses are
masked for users who may not see them, wherever they appear (also inside free text).

Every output asks `masker_for(user)` (or `Masker` for a reader without an account) and
calls it on every value it shows: templates through the filters in `crm_tags`
(`{{ value|text:masker }}`, `|phone:masker`, `|email:masker`, `|terms:masker`), CSV
exports, the history partial, certificates and e-mails through `.text()`, `.data()` and
friends. Who may reveal what comes from settings, so this kernel module names no app:

- `MASKING_REVEAL_PERMISSION`: the permission to see contact details unmasked;
- `MASKING_TERMS_PERMISSIONS`: any of these lets a user read contract terms (title, body,
  versions) in full: the people who approve or sign them must read what they decide on;
- `PHONE_REGION`: the region numbers without a country code are read in (default "CN").

Phone numbers in text are found with `phonenumbers` (Google's libphonenumber), which
tells a phone number from a date, an amount or a postcode; a number glued to letters or
a hyphen (`CT-2026-000123`) is an identifier, not a phone.
"""

import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.utils.safestring import SafeData, mark_safe


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


# An address as people type it: the local part's characters of RFC 5322's dot-atom (and
# any letter), then a domain of dot-separated labels that neither start nor end with a
# hyphen, ending in a label of letters (the top-level domain).
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
EMAIL_IN_TEXT = re.compile(rf"[\w.!#$%&'*+/=?^`{{|}}~-]+@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}\b")
# Our document numbers (`CT-2026-000123`: prefix, year, sequence) can read as a phone
# number; a number of that shape right after a letter prefix is left alone.
_DOCUMENT_PREFIX = re.compile(r"[A-Za-z]{1,10}-$")
_DOCUMENT_REST = re.compile(r"\d{4}-\d{1,10}")


# libphonenumber skips a number glued to letters (`tel13800135678`, `13800135678abc`);
# such runs are checked one by one.
_GLUED_TO_LETTERS = re.compile(r"(?<=[^\W\d_])\+?\d[\d -]{5,}\d|\+?\d[\d -]{5,}\d(?=[^\W\d_])")


def phone_region() -> str:
    return getattr(settings, "PHONE_REGION", "CN") or "CN"


# No phone number, with its country code, has fewer digits than this: text with fewer (most
# names and titles) skips the matcher, the costly part of masking a list page.
_FEWEST_PHONE_DIGITS = 5


def _mask_phones(text: str) -> str:
    if sum(character.isdigit() for character in text) < _FEWEST_PHONE_DIGITS:
        return text
    pieces, end = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, phone_region()):
        prefix = text[max(0, match.start - 11) : match.start]
        if _DOCUMENT_REST.fullmatch(match.raw_string) and _DOCUMENT_PREFIX.search(prefix):
            continue
        pieces += [text[end : match.start], mask_phone(match.raw_string)]
        end = match.end
    if pieces:
        pieces.append(text[end:])
        text = "".join(pieces)
    return _GLUED_TO_LETTERS.sub(_mask_if_phone, text)


def _mask_if_phone(match: re.Match) -> str:
    try:
        number = phonenumbers.parse(match.group(), phone_region())
    except phonenumbers.NumberParseException:
        return match.group()
    return mask_phone(match.group()) if phonenumbers.is_valid_number(number) else match.group()


def mask_text(text: str) -> str:
    """Free text (a note, a contract body) with the e-mail addresses and phone numbers in it
    masked; dates, amounts, postcodes and document numbers stay as written."""
    if not text:
        return text
    # E-mails first: `13800135678@qq.com` is an address, masked as one.
    return _mask_phones(EMAIL_IN_TEXT.sub(lambda match: mask_email(match.group()), text))


@dataclass(frozen=True)
class Masker:
    """How one reader sees contact details. `reveal`: everything as written;
    `reveal_terms`: contract terms as written (approvers and signatories)."""

    reveal: bool = False
    reveal_terms: bool = False

    def phone(self, value: Any) -> str:
        """A value that is a phone number: masked whole, even when it is no valid number."""
        value = "" if value is None else str(value)
        return value if self.reveal else mask_phone(value)

    def email(self, value: Any) -> str:
        value = "" if value is None else str(value)
        return value if self.reveal else mask_email(value)

    def text(self, value: Any) -> Any:
        """Any value shown to the reader; text has its phones and e-mails masked. Markup a
        view already made safe stays safe (masking only swaps characters for `*`)."""
        if value is None or self.reveal:
            return value
        masked = mask_text(str(value))
        return mark_safe(masked) if isinstance(value, SafeData) else masked

    def terms(self, value: Any) -> Any:
        """Contract terms (title, body, versions, their diff)."""
        return value if self.reveal_terms else self.text(value)

    def hides(self, value: str) -> bool:
        """Whether the text holds something this reader sees masked. Search boxes match
        nothing for such text, so a hidden number cannot be found by probing for it."""
        return not self.reveal and bool(value) and mask_text(value) != value

    def change(self, field: str, value: Any, *, model: str = "") -> Any:
        """An old or new value in the history of a `model` ("app_label.model_name"): a phone
        or e-mail field masked whole, contract terms as `terms()`, anything else as `data()`
        (a phone can be typed into any field, so no field is trusted by name)."""
        if field in ("phone", "email") and isinstance(value, str):
            return getattr(self, field)(value)
        if field in getattr(settings, "MASKING_TERMS_FIELDS", {}).get(model, ()):
            return self.terms(value)
        return self.data(value)

    def data(self, value: Any) -> Any:
        """A JSON-like value (an audit event's changes or extra) with every string masked."""
        if self.reveal:
            return value
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value


REVEALED = Masker(reveal=True, reveal_terms=True)
MASKED = Masker()


def masker_for(user) -> Masker:
    """The masker for a user, built once per user object (so once per request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return MASKED
    cached = getattr(user, "_crm_masker", None)
    if cached is None:
        reveal = user.has_perm(settings.MASKING_REVEAL_PERMISSION)
        terms = reveal or any(user.has_perm(perm) for perm in settings.MASKING_TERMS_PERMISSIONS)
        cached = Masker(reveal=reveal, reveal_terms=terms)
        user._crm_masker = cached
    return cached


def as_masker(value) -> Masker:
    """What a template passed as the filter's argument: a `Masker`, or a plain reveal flag."""
    if isinstance(value, Masker):
        return value
    return REVEALED if value is True else MASKED
