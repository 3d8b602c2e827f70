from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from customers.services import activity_reminders_send


class Command(CrmCommand):
    help = (
        "Remind each open activity's assignee (in the app and by e-mail, once) when it is due within "
        "ACTIVITY_REMINDER_MINUTES."
    )
    supports_dry_run = True

    def run(self, *, dry_run, **options):
        reminded = activity_reminders_send(dry_run=dry_run)
        for activity in reminded:
            line = _("would remind %(user)s of %(activity)s") if dry_run else _("reminded %(user)s of %(activity)s")
            self.stdout.write(line % {"user": activity.assignee.get_username(), "activity": activity})
        if dry_run:
            summary = _("%(count)s reminder(s) would be sent.") % {"count": len(reminded)}
        else:
            summary = _("%(count)s reminder(s) sent.") % {"count": len(reminded)}
        self.stdout.write(self.style.SUCCESS(summary))
