import unicodedata

from django.conf import settings
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.demo import DEMO_PASSWORD, DEMO_USERS

URL = "http://127.0.0.1:8000/"


def width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


class Command(CrmCommand):
    help = "Print the address of the development server and the demo logins that `seed_demo` creates."

    def run(self, **options):
        header = (_("Username"), _("Password"), _("Role"), _("Language"), _("Sees"))
        languages = dict(settings.LANGUAGES)
        rows = [
            (user.username, DEMO_PASSWORD, str(user.role.label), languages[user.language], str(user.sees))
            for user in DEMO_USERS
        ]
        widths = [max(width(row[column]) for row in [header, *rows]) for column in range(len(header))]
        rule = tuple("-" * width for width in widths)
        self.stdout.write(self.style.SUCCESS(_("Open %(url)s and sign in as one of the demo users:") % {"url": URL}))
        self.stdout.write("")
        for row in [header, rule, *rows]:
            self.stdout.write(
                "  "
                + "  ".join(
                    value + " " * (column - width(value)) for value, column in zip(row, widths, strict=True)
                ).rstrip()
            )
        self.stdout.write("")
