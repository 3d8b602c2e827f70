import re

from django.db.models import Func, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Lower, Trim

from crm.core.visibility import VisibleQuerySet
from customers.choices import OPEN_STAGES


def name_key(expression):
    """Lower-cased name with runs of white space folded: the duplicate key for names."""
    return Lower(Trim(Func(expression, Value(r"\s+"), Value(" "), Value("g"), function="regexp_replace")))


def email_key(expression):
    return Lower(Trim(expression))


def phone_key(expression):
    """The digits of a phone number: `+86 138-0013-5678` -> `8613800135678`."""
    return Func(expression, Value(r"\D"), Value(""), Value("g"), function="regexp_replace")


class CustomerQuerySet(VisibleQuerySet):
    owner_path = "owner"

    def duplicates_of(self, field: str, value: str):
        """Customers whose normalized `field` (name, email or phone) equals `value`'s."""
        key = {"name": name_key, "email": email_key, "phone": phone_key}[field]
        return self.filter(**{f"{field}_key": key(Value(value))})


def phone_key_digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


class ContactQuerySet(VisibleQuerySet):
    customer_path = "customer"
    view_all_permission = "customers.view_all_customer"


class InteractionQuerySet(VisibleQuerySet):
    customer_path = "customer"
    view_all_permission = "customers.view_all_customer"


class OpportunityQuerySet(VisibleQuerySet):
    """Opportunities follow their customer's owner; the opportunity's own owner (a rep a
    manager gave the deal to) sees it too."""

    customer_path = "customer"
    view_all_permission = "customers.view_all_customer"

    def owned_by(self, user):
        return self.filter(Q(customer__in=self._owned_customers(user)) | Q(owner=user))

    def open(self):
        return self.filter(stage__in=OPEN_STAGES)

    def with_probability(self):
        """`probability_value`: the owner's override, else the stage's default (0 when unset)."""
        from customers.models import StageProbability

        default = StageProbability.objects.filter(stage=OuterRef("stage")).values("probability")[:1]
        return self.annotate(probability_value=Coalesce("probability_override", Subquery(default), 0))


class ActivityQuerySet(VisibleQuerySet):
    """Activities follow their customer's owner; their assignee sees them too."""

    customer_path = "customer"
    view_all_permission = "customers.view_all_customer"

    def owned_by(self, user):
        return self.filter(Q(customer__in=self._owned_customers(user)) | Q(assignee=user))
