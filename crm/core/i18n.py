"""The translation catalogs (locale/<lang>/LC_MESSAGES/django.po): compiled when stale,
and checked complete — every string of the code extracted, every one translated, none fuzzy.

`make lint` runs the check (`manage.py check_translations`); the test suite compiles the
catalogs before it starts, so a fresh clone needs no committed .mo files."""

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# What `makemessages` must not read: virtualenvs, data, caches and collected static files.
IGNORED = [".venv", ".git", ".pgdata", "var", "staticfiles", "test-artifacts", "node_modules", "locale"]
IGNORED_SUFFIXES = (".pyc", ".mo", ".po")
DOMAINS = ["django"]


@dataclass(frozen=True)
class Entry:
    context: str
    msgid: str
    plural: str
    translations: tuple[str, ...]
    fuzzy: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.context, self.msgid)


_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(line: str) -> str:
    text = "".join(_STRING.findall(line))
    return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match.group(1), match.group(0)), text)


def read_catalog(path: Path) -> list[Entry]:
    """The live entries of a .po file (not the header, not obsolete `#~` entries)."""
    entries = []
    for block in re.split(r"\n\s*\n", Path(path).read_text(encoding="utf-8")):
        lines = [line for line in block.splitlines() if line.strip()]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            if line.startswith("#"):  # comments, flags and obsolete `#~` entries
                continue
            match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*)$", line)
            if match:
                current = match.group(1)
                fields[current] = _unquote(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += _unquote(line)
        if "msgid" not in fields or fields["msgid"] == "":
            continue
        translations = tuple(value for name, value in sorted(fields.items()) if name.startswith("msgstr"))
        entries.append(
            Entry(fields.get("msgctxt", ""), fields["msgid"], fields.get("msgid_plural", ""), translations, fuzzy)
        )
    return entries


def catalogs(root: Path) -> list[Path]:
    return sorted((Path(root) / "locale").glob("*/LC_MESSAGES/*.po"))


def compile_catalogs(root: Path) -> list[Path]:
    """Compile every .po whose .mo is missing or older; returns the ones compiled."""
    compiled = []
    for po in catalogs(root):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True, capture_output=True)
            compiled.append(po)
    return compiled


def _ignore(directory, names):
    return [name for name in names if name in IGNORED or name.endswith(IGNORED_SUFFIXES)]


def extracted_messages(root: Path, language: str, domain: str = "django") -> list[Entry]:
    """What `makemessages` extracts from the code today, run on a scratch copy of it so
    that nothing in the working tree changes."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    with tempfile.TemporaryDirectory(prefix="crm-messages-") as scratch:
        copy = Path(scratch) / "src"
        shutil.copytree(root, copy, ignore=_ignore)
        previous = os.getcwd()
        os.chdir(copy)
        try:
            with override_settings(LOCALE_PATHS=[copy / "locale"]):
                call_command("makemessages", locale=[language], domain=domain, verbosity=0, no_location=True)
        finally:
            os.chdir(previous)
        return read_catalog(copy / "locale" / language / "LC_MESSAGES" / f"{domain}.po")


_STATISTICS = re.compile(r"(\d+) (translated|fuzzy|untranslated)")


def catalog_problems(root: Path) -> list[str]:
    """One line per problem: a string not in a catalog, an entry no code uses, an
    untranslated or fuzzy entry, or what `msgfmt --check` refuses (a placeholder that
    differs from its msgid's, a broken plural)."""
    from django.utils.translation import gettext as _

    problems = []
    found = catalogs(root)
    if not found:
        return [_("There is no catalog in %(folder)s.") % {"folder": Path(root) / "locale"}]
    for po in found:
        language, domain = po.parent.parent.name, po.stem
        entries = read_catalog(po)
        present = {entry.key for entry in entries}
        extracted = {entry.key for entry in extracted_messages(root, language, domain)}
        for _ctx, msgid in sorted(extracted - present):
            problems.append(_("%(po)s: not extracted: %(msgid)r") % {"po": po.name, "msgid": msgid})
        for _ctx, msgid in sorted(present - extracted):
            problems.append(_("%(po)s: no longer in the code: %(msgid)r") % {"po": po.name, "msgid": msgid})
        result = subprocess.run(
            ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(po)], capture_output=True, text=True
        )
        if result.returncode:
            problems.append(result.stderr.strip())
        counts = {kind: int(number) for number, kind in _STATISTICS.findall(result.stderr)}
        for kind in ("untranslated", "fuzzy"):
            if counts.get(kind):
                problems.append(
                    _("%(po)s (%(language)s): %(count)s %(kind)s")
                    % {"po": po.name, "language": language, "count": counts[kind], "kind": kind}
                )
        for entry in entries:
            if entry.fuzzy or not all(entry.translations):
                problems.append(_("%(po)s: not translated: %(msgid)r") % {"po": po.name, "msgid": entry.msgid})
    return problems
