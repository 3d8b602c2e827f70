from crm.core.commands import CrmCommand
from crm.core.demo import DEMO_PASSWORD, DEMO_USERS

URL = "http://127.0.0.1:8000/"


class Command(CrmCommand):
    help = "Print the address of the development server and the demo logins that `seed_demo` creates."

    def run(self, **options):
        header = ("Username", "Password", "Role", "Sees")
        rows = [(user.username, DEMO_PASSWORD, str(user.role.label), user.sees) for user in DEMO_USERS]
        widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
        rule = tuple("-" * width for width in widths)
        self.stdout.write(self.style.SUCCESS(f"Open {URL} and sign in as one of the demo users:"))
        self.stdout.write("")
        for row in [header, rule, *rows]:
            self.stdout.write(
                "  " + "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
            )
        self.stdout.write("")
