from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class RecipientStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class CampaignLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    CHINESE = "zh-hans", _("Simplified Chinese")


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Bounced")


class ReturnedMailKind(models.TextChoices):
    """What a message in the campaign mailbox turned out to be."""

    HARD_BOUNCE = "hard_bounce", _("Bounced for good")
    SOFT_BOUNCE = "soft_bounce", _("Bounced for now")
    AUTO_REPLY = "auto_reply", _("Automatic reply")
    REPLY = "reply", _("Reply")
    UNRECOGNISED = "unrecognised", _("Not understood")
