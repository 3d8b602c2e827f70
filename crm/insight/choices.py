from django.db import models
from django.utils.translation import gettext_lazy as _


class ModelKind(models.TextChoices):
    SEGMENTS = "segments", _("Customer segments")
    WIN = "win_probability", _("Win probability")
    NEXT_ORDER = "next_order", _("Next-order likelihood")


class ModelStatus(models.TextChoices):
    TRAINED = "trained", _("Trained")
    NOT_ENOUGH_DATA = "not_enough_data", _("Not enough data")
