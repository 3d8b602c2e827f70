import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.exceptions import DomainError
from crm.core.workflow import SYSTEM
from marketing import selectors, services, tasks
from marketing.choices import CampaignStatus
from marketing.models import Campaign

# A sending campaign none of whose recipients was handed over for this long lost its
# sender (a worker restarted): it is handed to the queue again.
STALLED_AFTER = datetime.timedelta(minutes=2)


class Command(CrmCommand):
    help = (
        "Start the scheduled campaigns whose time has come (the system starts them, through campaign_start), "
        "and resume sending campaigns whose sender stopped."
    )
    supports_dry_run = True

    def run(self, *, dry_run, **options):
        due = list(Campaign.objects.filter(pk__in=selectors.campaigns_due()).order_by("scheduled_at", "pk"))
        started = 0
        with self.progress(len(due), "Starting campaigns") as bar:
            for campaign in due:
                if dry_run:
                    self.stdout.write(_("would start %(campaign)s") % {"campaign": campaign.name})
                else:
                    try:
                        services.campaign_start(actor=SYSTEM, campaign_id=campaign.pk)
                        started += 1
                    except DomainError as error:
                        self.stderr.write(f"{campaign.name}: {error.message}")
                bar.update(1)
        resumed = 0
        stalled_before = timezone.now() - STALLED_AFTER
        for campaign in Campaign.objects.filter(status=CampaignStatus.SENDING, started_at__lt=stalled_before):
            pending = campaign.recipients.filter(handed_at__isnull=True)
            recent = campaign.recipients.filter(handed_at__gte=stalled_before).exists()
            if pending.exists() and not recent:
                if not dry_run:
                    tasks.campaign_send_batch.delay(campaign.pk)
                resumed += 1
            elif not pending.exists() and not dry_run:
                services.campaign_finish_if_done(campaign_id=campaign.pk)
        message = (
            _("%(started)s campaign(s) would start; %(resumed)s would resume.")
            if dry_run
            else _("%(started)s campaign(s) started; %(resumed)s resumed.")
        )
        self.stdout.write(
            self.style.SUCCESS(message % {"started": len(due) if dry_run else started, "resumed": resumed})
        )
