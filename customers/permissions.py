"""What each role may do with customers, and the checks built on it."""

from crm.core.masking import masker_for
from crm.core.roles import Role

_SALES_OWN = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.delete_customer",
    "customers.view_contact_details",
    "customers.view_contact",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
    "customers.view_interaction",
    "customers.add_interaction",
    "customers.change_interaction",
    "customers.delete_interaction",
    "customers.view_opportunity",
    "customers.add_opportunity",
    "customers.change_opportunity",
    "customers.close_opportunity",
    "customers.view_activity",
    "customers.add_activity",
    "customers.change_activity",
]
_READ_ALL = ["customers.view_customer", "customers.view_all_customer", "customers.view_contact"]

ROLE_PERMISSIONS = {
    Role.SALES_REP: _SALES_OWN,
    Role.SALES_MANAGER: [
        *_SALES_OWN,
        "customers.view_all_customer",
        "customers.reassign_customer",
        "customers.assign_opportunity",
    ],
    Role.FINANCE_APPROVER: [*_READ_ALL, "customers.view_interaction"],
    Role.SIGNATORY: _READ_ALL,
    # Service staff see customers read-only, with phone numbers and e-mails masked.
    Role.SERVICE_AGENT: [*_READ_ALL, "customers.view_interaction", "customers.add_interaction"],
    Role.SERVICE_MANAGER: [*_READ_ALL, "customers.view_interaction", "customers.add_interaction"],
}


def can_see_contact_details(user) -> bool:
    """The masking layer's own answer, so search and pages never disagree."""
    return masker_for(user).reveal


def can_reassign(user) -> bool:
    return user.has_perm("customers.reassign_customer")
