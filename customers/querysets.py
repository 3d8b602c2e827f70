import re

from django.db.models import Func, Value
from django.db.models.functions import Lower, Trim

from crm.core.visibility import VisibleQuerySet


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
    customer_owner_path = "customer_owner"
    view_all_permission = "customers.view_all_customer"


class InteractionQuerySet(VisibleQuerySet):
    customer_path = "customer"
    view_all_permission = "customers.view_all_customer"
