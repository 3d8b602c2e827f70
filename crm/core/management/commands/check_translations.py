from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.i18n import catalog_problems, catalogs, read_catalog


class Command(CrmCommand):
    help = (
        "Fail when a string of the code is not in a catalog (makemessages would add it), an entry is no "
        "longer used, or an entry is untranslated or fuzzy (msgfmt --check --statistics)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--root", default=str(settings.BASE_DIR), help="The project folder to check.")

    def run(self, **options):
        problems = catalog_problems(options["root"])
        if problems:
            for problem in problems[:50]:
                self.stderr.write(problem)
            raise CommandError(
                _("%(count)s translation problem(s); run makemessages -l zh_Hans and translate.")
                % {"count": len(problems)}
            )
        for po in catalogs(options["root"]):
            self.stdout.write(
                _("%(po)s: %(count)s messages, all translated.")
                % {"po": po.relative_to(options["root"]), "count": len(read_catalog(po))}
            )
