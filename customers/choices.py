from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    INDIVIDUAL = "individual", _("Individual")


class CustomerStatus(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    CHURNED = "churned", _("Churned")


class CustomerTier(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic")
    KEY = "key", _("Key account")
    STANDARD = "standard", _("Standard")
    SMALL = "small", _("Small")


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail")
    FINANCE = "finance", _("Finance")
    HEALTHCARE = "healthcare", _("Healthcare")
    TECHNOLOGY = "technology", _("Technology")
    EDUCATION = "education", _("Education")
    LOGISTICS = "logistics", _("Logistics")
    ENERGY = "energy", _("Energy")
    GOVERNMENT = "government", _("Government")
    OTHER = "other", _("Other")


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    NOTE = "note", _("Note")
