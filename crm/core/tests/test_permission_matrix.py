"""Every named URL x every role -> the status a GET answers, and the status a POST answers.

When you add a URL, add its row to EXPECTED and EXPECTED_POST: `test_every_named_url_is_in_the_matrix`
and `test_every_named_url_is_in_the_post_matrix` fail until you do. Object URLs are built from
objects owned by `rep`, so `other_rep` must get 404 (the object is invisible to them, never 403
which would confirm it exists). Each test builds its own objects, so a POST that succeeds
spoils nothing for the next one. A workflow step's row comes from the app's workflow table
(its permission and visibility), the one its view is made from.
"""

import pytest
from django.contrib.auth.views import redirect_to_login
from django.core.handlers.wsgi import WSGIRequest, get_bytes_from_wsgi
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode

from contracts.tests.factories import ContractFactory
from crm.core.imports import services as import_services
from crm.core.models import AuditEvent, Notification
from crm.core.roles import Role, declared_role_permissions
from crm.core.views import ServiceActionView
from crm.core.workflow import workflows
from customers.tests.factories import (
    ActivityFactory,
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    OpportunityFactory,
)
from marketing.tests.factories import campaign_for, segment_for
from orders import services
from orders.tests.factories import ProductFactory, line, order_for, quote_line
from service.inbound import inbound_mail_from_form
from service.mailparse import ParsedAttachment
from service.tests.factories import ticket_for

# /health/ is among the pages: it answers 200 only while a worker reports in.
pytestmark = pytest.mark.usefixtures("worker_alive")

ROLES = ["anonymous", "rep", "other_rep", "manager", "finance", "signatory", "agent", "service_manager", "admin"]
ROLE_FIXTURES = {"admin": "admin_user"}

LOGIN = 302  # anonymous users are sent to the login page
OK, FORBIDDEN, NOT_FOUND, NOT_ALLOWED, GONE = 200, 403, 404, 405, 410


def row(everyone=OK, *, anonymous=LOGIN, **by_role):
    """The expected status for every role: `everyone` unless a role is named."""
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    return {"anonymous": anonymous, **{role: by_role.get(role, everyone) for role in ROLES[1:]}}


# Roles that only read customers: no change/delete permission, so change pages are 404
# (nothing they may change) and pages guarded by a permission are 403.
READ_ONLY = ("finance", "signatory", "agent", "service_manager")


def read_only(status):
    return dict.fromkeys(READ_ONLY, status)


ROLE_OF = {
    "rep": Role.SALES_REP,
    "other_rep": Role.SALES_REP,
    "manager": Role.SALES_MANAGER,
    "finance": Role.FINANCE_APPROVER,
    "signatory": Role.SIGNATORY,
    "agent": Role.SERVICE_AGENT,
    "service_manager": Role.SERVICE_MANAGER,
}
DECLARED_PERMISSIONS = declared_role_permissions()[0]


def may(role, permission):
    """Whether a role holds a permission as the apps declare it (the admin holds every one)."""
    return role == "admin" or permission in DECLARED_PERMISSIONS[ROLE_OF[role].value]


def step_row(permission, *, changes=False, ok=OK):
    """A workflow step's page: 404 for whoever may not see the object (or, for a step that
    changes it, may not change it), then 403 for a role without the step's permission."""
    hidden = {"other_rep", *(READ_ONLY if changes else ())}
    return row(
        **{role: NOT_FOUND if role in hidden else ok if may(role, permission) else FORBIDDEN for role in ROLES[1:]}
    )


# Each workflow step URL: (its step permission, whether the step changes the object), read
# from the workflow tables (crm/core/workflow.py), the same rows the step views are made from.
STEP_URLS = {
    workflow.url_name(step): (step.permission, step.visibility == "change")
    for workflow in workflows()
    for step in workflow.page_steps()
}


def step_rows(ok=OK):
    return {
        url_name: step_row(permission, changes=changes, ok=ok) for url_name, (permission, changes) in STEP_URLS.items()
    }


# The service desk's objects: an unassigned ticket of `rep`'s customer. Agents see the
# unassigned queue and service managers every ticket (both may change them); a rep reads the
# tickets of their customers and a sales manager every ticket; finance and signatories none.
TICKET_SEES = {"view": {"rep", "manager", "agent", "service_manager"}, "change": {"agent", "service_manager"}}


def ticket_step_rows(ok=OK):
    """Each ticket step page: 404 for whoever may not see (or change) the ticket, then 403
    without the step's permission."""
    from service.workflow import WORKFLOW as TICKET_WORKFLOW

    rows = {}
    for step in TICKET_WORKFLOW.page_steps():
        seen = TICKET_SEES[step.visibility]
        rows[TICKET_WORKFLOW.url_name(step)] = row(
            **{
                role: NOT_FOUND
                if role not in seen and role != "admin"
                else ok
                if may(role, step.permission)
                else FORBIDDEN
                for role in ROLES[1:]
            }
        )
    return rows


# Marketing's lists and forms: the roles that hold the marketing permissions.
MARKETERS = row(FORBIDDEN, rep=OK, other_rep=OK, manager=OK, admin=OK)

EXPECTED = {
    # Public, or Django's own authentication pages.
    "health": row(anonymous=OK),
    "set_language": row(NOT_ALLOWED, anonymous=NOT_ALLOWED),  # POST only, for everyone
    "login": row(anonymous=OK),
    "logout": row(NOT_ALLOWED),  # POST only
    "password_change": row(),
    "password_change_done": row(),
    "password_reset": row(anonymous=OK),
    "password_reset_done": row(anonymous=OK),
    "password_reset_confirm": row(anonymous=OK),
    "password_reset_complete": row(anonymous=OK),
    # Dashboard and lists: everyone signed in, each sees what visibility allows.
    "dashboard:home": row(),
    "dashboard:search": row(),  # everyone signed in searches what they may see
    # A chart's CSV: the rep's pipeline chart is in the reps' (and the admin's) sections only.
    "dashboard:chart_export": row(NOT_FOUND, rep=OK, other_rep=OK, admin=OK),
    "dashboard:report_list": row(),  # every report counts only what the reader may see
    "dashboard:report": row(),
    # The models page: figures over every customer, for the sales managers (and the admin).
    "insight:model_list": row(FORBIDDEN, manager=OK, admin=OK),
    # Notifications: everyone reads their own; reading one is POST only (404 for another's).
    "notifications:notification_list": row(),
    "notifications:notification_read": row(NOT_ALLOWED),
    "notifications:notification_read_all": row(NOT_ALLOWED),
    "customers:customer_list": row(),
    "customers:customer_export": row(),
    "customers:contact_list": row(),
    "customers:customer_create": row(**read_only(FORBIDDEN)),
    "customers:customer_reassign": row(FORBIDDEN, manager=OK, admin=OK),
    # One customer of `rep`'s, with a contact and a timeline entry.
    "customers:customer_detail": row(other_rep=NOT_FOUND),
    "customers:customer_update": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "customers:customer_delete": row(other_rep=NOT_FOUND, **read_only(FORBIDDEN)),
    "customers:contact_create": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "customers:contact_update": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "customers:contact_delete": row(other_rep=NOT_FOUND, **read_only(FORBIDDEN)),
    "customers:interaction_create": row(other_rep=NOT_FOUND, finance=FORBIDDEN, signatory=FORBIDDEN),
    "customers:interaction_delete": row(other_rep=NOT_FOUND, **read_only(FORBIDDEN)),
    # The pipeline: one open opportunity and one open activity on that customer. Roles that
    # only read customers hold no opportunity or activity permission. Its steps: STEP_URLS.
    "customers:opportunity_list": row(**read_only(FORBIDDEN)),
    "customers:opportunity_board": row(**read_only(FORBIDDEN)),
    "customers:opportunity_create": row(**read_only(FORBIDDEN)),
    "customers:opportunity_assign": row(FORBIDDEN, manager=OK, admin=OK),
    "customers:opportunity_detail": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "customers:opportunity_update": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "customers:activity_create": row(other_rep=NOT_FOUND, **read_only(FORBIDDEN)),
    "customers:activity_detail": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "customers:activity_complete": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "customers:activity_reschedule": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "customers:activity_cancel": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "customers:my_day": row(**read_only(FORBIDDEN)),
    # One draft contract of `rep`'s for that customer. Its step pages: see STEP_URLS.
    "contracts:contract_list": row(),
    "contracts:approval_inbox": row(FORBIDDEN, manager=OK, finance=OK, admin=OK),
    "contracts:contract_create": row(other_rep=NOT_FOUND, **read_only(FORBIDDEN)),
    "contracts:contract_detail": row(other_rep=NOT_FOUND),
    "contracts:contract_update": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "contracts:contract_diff": row(other_rep=NOT_FOUND),
    "contracts:contract_similar": row(other_rep=NOT_FOUND),
    "contracts:contract_certificate": row(other_rep=NOT_FOUND),
    # A draft has no signatures, so no evidence yet; roles that may not see contact details
    # never download it (the signed statements hold e-mail addresses).
    "contracts:contract_evidence": row(NOT_FOUND, **read_only(FORBIDDEN)),
    "contracts:signing_link_revoke": row(NOT_ALLOWED, **read_only(FORBIDDEN)),  # POST only
    # Public: the customer's one-time signing link (unknown token: gone) and the verification page.
    "contracts:customer_sign": row(GONE, anonymous=GONE),
    "contracts:customer_sign_page": row(GONE, anonymous=GONE),  # without a session from a link
    "contracts:verify": row(anonymous=OK),
    # Orders: one draft order of `rep`'s for that customer, without a contract, and one product.
    # Its step pages: see STEP_URLS.
    "orders:order_list": row(),
    "orders:order_export": row(),
    "orders:order_create": row(other_rep=NOT_FOUND, **read_only(FORBIDDEN)),
    "orders:order_line_form": row(**read_only(FORBIDDEN)),
    "orders:contract_orders": row(other_rep=NOT_FOUND),
    "orders:order_detail": row(other_rep=NOT_FOUND),
    "orders:order_update": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "orders:product_list": row(),
    "orders:product_create": row(FORBIDDEN, manager=OK, admin=OK),
    "orders:product_update": row(FORBIDDEN, manager=OK, admin=OK),
    # The service desk's public pages: the inquiry form; a status link or rating link with an
    # unknown token, or their pages without the session a link opens, are gone.
    "service:public_ticket_form": row(anonymous=OK),
    "service:ticket_status_start": row(GONE, anonymous=GONE),
    "service:ticket_status": row(GONE, anonymous=GONE),
    "service:satisfaction_start": row(GONE, anonymous=GONE),
    "service:satisfaction": row(GONE, anonymous=GONE),
    # The desk's incoming mail (one unsorted message from the form, with an attachment): the
    # service roles only; sorting is POST only; the attachment is 404 to whoever may not see it.
    "service:inbound_mail_list": row(FORBIDDEN, agent=OK, service_manager=OK, admin=OK),
    "service:inbound_mail_detail": row(FORBIDDEN, agent=OK, service_manager=OK, admin=OK),
    **dict.fromkeys(
        ["service:inbound_mail_assign", "service:inbound_mail_ticket_create", "service:inbound_mail_discard"],
        row(FORBIDDEN, agent=NOT_ALLOWED, service_manager=NOT_ALLOWED, admin=NOT_ALLOWED),
    ),
    "service:attachment_download": row(NOT_FOUND, agent=OK, service_manager=OK, admin=OK),
    # Quotes: one draft quote of `rep`'s on that opportunity. Roles that only read see every
    # quote but no opportunity. Its step pages: see STEP_URLS.
    "orders:quote_list": row(),
    "orders:quote_create": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),  # they see no opportunity
    "orders:quote_line_form": row(**read_only(FORBIDDEN)),
    "orders:opportunity_quotes": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "orders:quote_detail": row(other_rep=NOT_FOUND),
    "orders:quote_update": row(other_rep=NOT_FOUND, **read_only(NOT_FOUND)),
    "orders:quote_pdf": row(other_rep=NOT_FOUND),
    "orders:quote_link_revoke": row(NOT_ALLOWED, **read_only(FORBIDDEN)),  # POST only
    # Public: the customer's one-time quote link (unknown token: gone) and, without a session
    # from a link, the pages it opens.
    "orders:quote_public_start": row(GONE, anonymous=GONE),
    "orders:quote_public": row(GONE, anonymous=GONE),
    "orders:quote_public_decline": row(GONE, anonymous=GONE),
    "orders:quote_public_pdf": row(GONE, anonymous=GONE),
    # A workflow step's page answers 403 to a role without the step's permission, after 404
    # for whoever may not see the object.
    **step_rows(),
    # The service desk: the agent's queue, the manager's board, every visible ticket; a new
    # ticket from a customer's page; the customer's card; one ticket and its reply (POST only);
    # an agent's duty (POST only; an unknown agent here).
    "service:ticket_queue": row(FORBIDDEN, agent=OK, service_manager=OK, admin=OK),
    "service:ticket_board": row(FORBIDDEN, service_manager=OK, admin=OK),
    "service:ticket_list": row(),
    "service:ticket_create": row(FORBIDDEN, other_rep=NOT_FOUND, agent=OK, service_manager=OK, admin=OK),
    "service:customer_tickets": row(other_rep=NOT_FOUND, finance=NOT_FOUND, signatory=NOT_FOUND),
    "service:ticket_detail": row(other_rep=NOT_FOUND, finance=NOT_FOUND, signatory=NOT_FOUND),
    "service:ticket_reply": row(NOT_ALLOWED),
    # Editing: the assignee or a service manager (the matrix ticket is unassigned: an agent
    # sees it in the queue but may not change it).
    "service:ticket_update": row(NOT_FOUND, agent=FORBIDDEN, service_manager=OK, admin=OK),
    "service:agent_duty": row(NOT_ALLOWED),
    **ticket_step_rows(),
    # Marketing: one segment of `rep`'s and a draft campaign to it. Reps and sales managers
    # hold the marketing permissions (a manager sees every segment and campaign); the other
    # roles none. Its steps (schedule, back to draft, cancel): see STEP_URLS.
    **dict.fromkeys(
        [
            "marketing:segment_list",
            "marketing:segment_create",
            "marketing:segment_count",
            "marketing:campaign_list",
            "marketing:campaign_create",
        ],
        MARKETERS,
    ),
    **dict.fromkeys(
        [
            "marketing:segment_detail",
            "marketing:campaign_detail",
            "marketing:campaign_preview",
            "marketing:campaign_results",
        ],
        row(FORBIDDEN, rep=OK, other_rep=NOT_FOUND, manager=OK, admin=OK),
    ),
    "marketing:segment_update": row(NOT_FOUND, rep=OK, manager=OK, admin=OK),
    "marketing:campaign_update": row(NOT_FOUND, rep=OK, manager=OK, admin=OK),
    "marketing:campaign_opportunity_create": row(NOT_FOUND, rep=OK, manager=OK, admin=OK),
    "marketing:campaign_test_send": row(NOT_ALLOWED, **read_only(FORBIDDEN)),  # POST only
    # Public: the recipient's unsubscribe link (an unknown token: gone) and tracked link (404).
    "marketing:unsubscribe": row(GONE, anonymous=GONE),
    "marketing:click": row(NOT_FOUND, anonymous=NOT_FOUND),
    # Imports: whoever may create customers (the sales roles, the admin) imports; one checked
    # run of `rep`'s is theirs alone (a sales manager does not see it; the admin does).
    "imports:run_list": row(FORBIDDEN, rep=OK, other_rep=OK, manager=OK, admin=OK),
    "imports:run_create": row(FORBIDDEN, rep=OK, other_rep=OK, manager=OK, admin=OK),
    **dict.fromkeys(
        ["imports:run_detail", "imports:run_progress", "imports:run_result"],
        row(FORBIDDEN, rep=OK, other_rep=NOT_FOUND, manager=NOT_FOUND, admin=OK),
    ),
    "imports:run_commit": row(
        FORBIDDEN, rep=NOT_ALLOWED, other_rep=NOT_ALLOWED, manager=NOT_ALLOWED, admin=NOT_ALLOWED
    ),
}

# What a POST (with no data) answers. DONE: a role that may take the step or send the
# form gets its success redirect, or the form shown again with its errors (200).
DONE = "done"


def posts(get_row):
    """A form page: whoever may open it may send it."""
    return {role: DONE if status == OK else status for role, status in get_row.items()}


GET_ONLY = row(NOT_ALLOWED)
PUBLIC_GET_ONLY = row(NOT_ALLOWED, anonymous=NOT_ALLOWED)

EXPECTED_POST = {
    "health": PUBLIC_GET_ONLY,
    "set_language": row(DONE, anonymous=DONE),
    "login": posts(EXPECTED["login"]),
    "logout": row(DONE),
    "password_change": posts(EXPECTED["password_change"]),
    "password_change_done": GET_ONLY,
    "password_reset": posts(EXPECTED["password_reset"]),
    "password_reset_done": PUBLIC_GET_ONLY,
    "password_reset_confirm": posts(EXPECTED["password_reset_confirm"]),
    "password_reset_complete": PUBLIC_GET_ONLY,
    "dashboard:home": GET_ONLY,
    "dashboard:search": GET_ONLY,
    "dashboard:chart_export": GET_ONLY,
    "dashboard:report_list": GET_ONLY,
    "dashboard:report": GET_ONLY,
    "insight:model_list": row(FORBIDDEN, manager=NOT_ALLOWED, admin=NOT_ALLOWED),  # the permission first
    "notifications:notification_list": GET_ONLY,
    "notifications:notification_read": row(NOT_FOUND, rep=DONE),  # the notification is rep's
    "notifications:notification_read_all": row(DONE),
    "customers:customer_list": GET_ONLY,
    "customers:customer_export": GET_ONLY,
    "customers:contact_list": GET_ONLY,
    "customers:customer_detail": GET_ONLY,
    "customers:opportunity_list": row(NOT_ALLOWED, **read_only(FORBIDDEN)),
    "customers:opportunity_board": row(NOT_ALLOWED, **read_only(FORBIDDEN)),
    "customers:opportunity_detail": GET_ONLY,
    "customers:activity_detail": GET_ONLY,
    "customers:my_day": row(NOT_ALLOWED, **read_only(FORBIDDEN)),
    **{
        name: posts(EXPECTED[name])
        for name in [
            "customers:customer_create",
            "customers:customer_reassign",
            "customers:customer_update",
            "customers:customer_delete",
            "customers:contact_create",
            "customers:contact_update",
            "customers:contact_delete",
            "customers:interaction_create",
            "customers:interaction_delete",
            "customers:opportunity_create",
            "customers:opportunity_assign",
            "customers:opportunity_update",
            "customers:activity_create",
            "customers:activity_complete",
            "customers:activity_reschedule",
            "customers:activity_cancel",
            "contracts:contract_create",
            "contracts:contract_update",
            "orders:order_create",
            "orders:order_update",
            "orders:product_create",
            "orders:product_update",
            "orders:quote_create",
            "orders:quote_update",
        ]
    },
    "contracts:contract_list": GET_ONLY,
    "contracts:approval_inbox": row(FORBIDDEN, manager=NOT_ALLOWED, finance=NOT_ALLOWED, admin=NOT_ALLOWED),
    "contracts:contract_detail": GET_ONLY,
    "contracts:contract_diff": GET_ONLY,
    "contracts:contract_similar": GET_ONLY,
    "contracts:contract_certificate": GET_ONLY,
    "contracts:contract_evidence": row(NOT_ALLOWED, **read_only(FORBIDDEN)),  # the permission is checked first
    # The permission first, then the contract (404 for other_rep), then the link (a message).
    "contracts:signing_link_revoke": row(DONE, other_rep=NOT_FOUND, **read_only(FORBIDDEN)),
    # The link's token is only exchanged (GET); the signing form posts to the token-free page.
    "contracts:customer_sign": PUBLIC_GET_ONLY,
    "contracts:customer_sign_page": row(GONE, anonymous=GONE),  # without a session from a link
    "contracts:verify": posts(EXPECTED["contracts:verify"]),
    "orders:order_list": GET_ONLY,
    "orders:order_export": GET_ONLY,
    "orders:order_line_form": row(NOT_ALLOWED, **read_only(FORBIDDEN)),
    "orders:contract_orders": GET_ONLY,
    "orders:order_detail": GET_ONLY,
    "orders:product_list": GET_ONLY,
    "service:public_ticket_form": posts(EXPECTED["service:public_ticket_form"]),
    "service:ticket_status_start": PUBLIC_GET_ONLY,
    "service:ticket_status": row(GONE, anonymous=GONE),
    "service:satisfaction_start": PUBLIC_GET_ONLY,
    "service:satisfaction": row(GONE, anonymous=GONE),
    "service:inbound_mail_list": row(FORBIDDEN, agent=NOT_ALLOWED, service_manager=NOT_ALLOWED, admin=NOT_ALLOWED),
    "service:inbound_mail_detail": row(FORBIDDEN, agent=NOT_ALLOWED, service_manager=NOT_ALLOWED, admin=NOT_ALLOWED),
    **dict.fromkeys(
        ["service:inbound_mail_assign", "service:inbound_mail_ticket_create", "service:inbound_mail_discard"],
        row(FORBIDDEN, agent=DONE, service_manager=DONE, admin=DONE),
    ),
    "service:attachment_download": GET_ONLY,
    "orders:quote_list": GET_ONLY,
    "orders:quote_line_form": row(NOT_ALLOWED, **read_only(FORBIDDEN)),
    "orders:opportunity_quotes": GET_ONLY,
    "orders:quote_detail": GET_ONLY,
    "orders:quote_pdf": GET_ONLY,
    "orders:quote_link_revoke": row(DONE, other_rep=NOT_FOUND, **read_only(FORBIDDEN)),
    "orders:quote_public_start": PUBLIC_GET_ONLY,
    "orders:quote_public": row(GONE, anonymous=GONE),
    "orders:quote_public_decline": row(GONE, anonymous=GONE),
    "orders:quote_public_pdf": row(GONE, anonymous=GONE),
    # Imports: an empty upload or mapping is shown again with its errors; only the run's own
    # importer maps and commits it (the admin sees it, changes nothing: 403, or a message).
    "imports:run_create": posts(EXPECTED["imports:run_create"]),
    "imports:run_detail": row(FORBIDDEN, rep=DONE, other_rep=NOT_FOUND, manager=NOT_FOUND),
    "imports:run_commit": row(FORBIDDEN, rep=DONE, other_rep=NOT_FOUND, manager=NOT_FOUND, admin=DONE),
    **dict.fromkeys(
        ["imports:run_list", "imports:run_progress", "imports:run_result"],
        row(FORBIDDEN, rep=NOT_ALLOWED, other_rep=NOT_ALLOWED, manager=NOT_ALLOWED, admin=NOT_ALLOWED),
    ),
    # A workflow step: refused (404, then 403) exactly as its page is.
    **step_rows(ok=DONE),
    "service:ticket_queue": row(FORBIDDEN, agent=NOT_ALLOWED, service_manager=NOT_ALLOWED, admin=NOT_ALLOWED),
    "service:ticket_board": row(FORBIDDEN, service_manager=NOT_ALLOWED, admin=NOT_ALLOWED),
    "service:ticket_list": GET_ONLY,
    "service:ticket_create": posts(EXPECTED["service:ticket_create"]),
    "service:customer_tickets": GET_ONLY,
    "service:ticket_detail": GET_ONLY,
    # Only who may change the ticket writes on it (an empty text is shown again with its error).
    "service:ticket_reply": row(NOT_FOUND, agent=DONE, service_manager=DONE, admin=DONE),
    "service:ticket_update": posts(EXPECTED["service:ticket_update"]),
    "service:agent_duty": row(NOT_FOUND),
    **ticket_step_rows(ok=DONE),
    **dict.fromkeys(
        [
            "marketing:segment_list",
            "marketing:segment_count",
            "marketing:campaign_list",
            "marketing:segment_detail",
            "marketing:campaign_detail",
            "marketing:campaign_preview",
            "marketing:campaign_results",
        ],
        row(FORBIDDEN, rep=NOT_ALLOWED, other_rep=NOT_ALLOWED, manager=NOT_ALLOWED, admin=NOT_ALLOWED),
    ),
    **{
        name: posts(EXPECTED[name])
        for name in [
            "marketing:segment_create",
            "marketing:segment_update",
            "marketing:campaign_create",
            "marketing:campaign_update",
            "marketing:campaign_opportunity_create",
        ]
    },
    # A test copy to yourself: whoever may change campaigns, of a campaign they see.
    "marketing:campaign_test_send": row(DONE, other_rep=NOT_FOUND, **read_only(FORBIDDEN)),
    # One-click unsubscribe is a POST (RFC 8058); an unknown token is gone.
    "marketing:unsubscribe": row(GONE, anonymous=GONE),
    "marketing:click": PUBLIC_GET_ONLY,
}

# Which fixture object (or literal value) fills each URL's arguments.
URL_ARGS = {
    **dict.fromkeys(
        ["imports:run_detail", "imports:run_commit", "imports:run_progress", "imports:run_result"], ["import_run"]
    ),
    "notifications:notification_read": ["notification"],
    "customers:customer_detail": ["customer"],
    "customers:customer_update": ["customer"],
    "customers:customer_delete": ["customer"],
    "customers:contact_create": ["customer"],
    "customers:interaction_create": ["customer"],
    "customers:contact_update": ["contact"],
    "customers:contact_delete": ["contact"],
    "customers:interaction_delete": ["interaction"],
    "customers:activity_create": ["customer"],
    **dict.fromkeys(
        [
            "customers:opportunity_detail",
            "customers:opportunity_update",
            "customers:opportunity_advance",
            "customers:opportunity_win",
            "customers:opportunity_lose",
            "customers:opportunity_reopen",
        ],
        ["opportunity"],
    ),
    **dict.fromkeys(
        [
            "customers:activity_detail",
            "customers:activity_complete",
            "customers:activity_reschedule",
            "customers:activity_cancel",
        ],
        ["activity"],
    ),
    "contracts:contract_detail": ["contract"],
    "contracts:contract_update": ["contract"],
    "contracts:contract_diff": ["contract"],
    "contracts:contract_similar": ["contract"],
    "contracts:contract_submit": ["contract"],
    "contracts:contract_reopen": ["contract"],
    "contracts:contract_cancel": ["contract"],
    "contracts:contract_approve": ["contract"],
    "contracts:contract_reject": ["contract"],
    "contracts:contract_terminate": ["contract"],
    "contracts:contract_complete": ["contract"],
    "contracts:contract_sign": ["contract"],
    "contracts:contract_certificate": ["contract"],
    "contracts:contract_evidence": ["contract"],
    "contracts:signing_link_send": ["contract"],
    "contracts:signing_link_revoke": ["contract", 999_999],  # GET is refused before the link is looked up
    **dict.fromkeys(
        [
            "orders:order_detail",
            "orders:order_update",
            "orders:order_submit",
            "orders:order_cancel",
            "orders:order_approve",
            "orders:order_reject",
            "orders:order_start_fulfilment",
            "orders:order_deliver",
            "orders:order_close",
        ],
        ["order"],
    ),
    "orders:product_update": ["product"],
    "service:ticket_detail": ["ticket"],
    "service:ticket_reply": ["ticket"],
    "service:ticket_update": ["ticket"],
    **{
        f"service:ticket_{step}": ["ticket"]
        for step in ("assign", "claim", "start", "wait", "resolve", "close", "reopen")
    },
    "service:agent_duty": [999_999],
    **dict.fromkeys(
        [
            "service:inbound_mail_detail",
            "service:inbound_mail_assign",
            "service:inbound_mail_ticket_create",
            "service:inbound_mail_discard",
        ],
        ["inbound"],
    ),
    "service:attachment_download": ["attachment"],
    **dict.fromkeys(
        [
            "orders:quote_detail",
            "orders:quote_update",
            "orders:quote_pdf",
            "orders:quote_submit",
            "orders:quote_approve",
            "orders:quote_reject",
            "orders:quote_send",
            "orders:quote_revise",
            "orders:quote_cancel",
        ],
        ["quote"],
    ),
    "orders:quote_link_revoke": ["quote", 999_999],
    "marketing:segment_detail": ["segment"],
    "marketing:segment_update": ["segment"],
    **dict.fromkeys(
        [
            "marketing:campaign_detail",
            "marketing:campaign_update",
            "marketing:campaign_preview",
            "marketing:campaign_test_send",
            "marketing:campaign_results",
            "marketing:campaign_opportunity_create",
            "marketing:campaign_schedule",
            "marketing:campaign_unschedule",
            "marketing:campaign_cancel",
        ],
        ["campaign"],
    ),
    "tokens:token_revoke": [999_999],
}

# --- the REST API (crm/api) --------------------------------------------------------------
#
# The same visibility as the pages, answered as problems: 401 (not the login redirect) to
# anonymous callers; an object answers as the page that shows it; a step is refused (404,
# then 403) exactly as its page is, and a create as its page's permission. PASSED: the call
# got past visibility and permission, and the answer is the step's or the form's (taken,
# 400 for an empty body, 409/422 for a refusal by the state or a rule).
UNAUTHORIZED = 401
PASSED = "passed"
PASSED_STATUSES = (200, 201, 400, 409, 415, 422)


def api(get_row):
    return {role: UNAUTHORIZED if role == "anonymous" else get_row[role] for role in ROLES}


def passed(get_row):
    return {role: PASSED if status == DONE else status for role, status in get_row.items()}


# Each API resource: (its fixture object, the page row its objects answer as, the permission
# its page of creation asks for, or None when the API only reads it).
API_RESOURCES = {
    "customer": ("customer", EXPECTED["customers:customer_detail"], "customers.add_customer"),
    "contact": ("contact", EXPECTED["customers:customer_detail"], "customers.add_contact"),
    "interaction": (
        "interaction",
        row(other_rep=NOT_FOUND, signatory=NOT_FOUND),
        "customers.add_interaction",
    ),  # signatories read no timeline
    "opportunity": ("opportunity", EXPECTED["customers:opportunity_detail"], "customers.add_opportunity"),
    "contract": ("contract", EXPECTED["contracts:contract_detail"], "contracts.add_contract"),
    "product": ("product", row(), None),
    "order": ("order", EXPECTED["orders:order_detail"], "orders.add_order"),
    "quote": ("quote", EXPECTED["orders:quote_detail"], "orders.add_quote"),
    "ticket": ("ticket", EXPECTED["service:ticket_detail"], "service.add_ticket"),
}
API_STEP_PAGES = {  # the API's step URL -> the page step URL whose row it shares
    f"api:{name}-{step.name}": workflow.url_name(step)
    for workflow in workflows()
    for name in API_RESOURCES
    if workflow.model_label.lower() == f"{workflow.app_label}.{name}"
    for step in workflow.page_steps()
    if step.name != "sign"  # the company signs in the browser only
}
EXPECTED.update(
    {
        "api:schema": api(row()),
        "api:docs": api(row()),
        "tokens:token_list": row(),
        "tokens:token_revoke": row(NOT_ALLOWED),
        "api:ticket-reply": api(row(NOT_ALLOWED)),
        **{f"api:{name}-list": api(row()) for name in API_RESOURCES},
        **{f"api:{name}-detail": api(shown) for name, (_obj, shown, _perm) in API_RESOURCES.items()},
        **{url_name: api(row(NOT_ALLOWED)) for url_name in API_STEP_PAGES},
    }
)
EXPECTED_POST.update(
    {
        "api:schema": api(row(NOT_ALLOWED)),
        "api:docs": api(row(NOT_ALLOWED)),
        "tokens:token_list": row(DONE),  # the form shown again with its errors
        "tokens:token_revoke": row(DONE),  # an unknown token: a message, back to the list
        "api:ticket-reply": api(
            row(NOT_FOUND, rep=FORBIDDEN, manager=FORBIDDEN, agent=PASSED, service_manager=PASSED, admin=PASSED)
        ),
        **{
            f"api:{name}-list": api(
                row(NOT_ALLOWED)
                if permission is None
                else {role: PASSED if may(role, permission) else FORBIDDEN for role in ROLES[1:]}
            )
            for name, (_obj, _shown, permission) in API_RESOURCES.items()
        },
        **{f"api:{name}-detail": api(row(NOT_ALLOWED)) for name in API_RESOURCES},
        **{url_name: api(passed(EXPECTED_POST[page])) for url_name, page in API_STEP_PAGES.items()},
    }
)
URL_ARGS.update(
    {
        "api:ticket-reply": ["ticket"],
        **{f"api:{name}-detail": [obj] for name, (obj, _shown, _perm) in API_RESOURCES.items()},
        **{url_name: URL_ARGS[page] for url_name, page in API_STEP_PAGES.items()},
    }
)
URL_KWARGS = {
    "dashboard:chart_export": {"slug": "rep_pipeline"},
    "dashboard:report": {"slug": "top-customers"},
    "password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
    "contracts:customer_sign": {"token": "no-such-token"},
    "service:ticket_status_start": {"token": "no-such-token"},
    "service:satisfaction_start": {"token": "no-such-token"},
    "orders:quote_public_start": {"token": "no-such-token"},
    "marketing:unsubscribe": {"token": "no-such-token"},
    "marketing:click": {"token": "no-such-token", "index": 0},
}
# Which fixture object fills each URL's query string.
URL_QUERY = {
    "customers:opportunity_create": {"customer": "customer"},
    "customers:opportunity_assign": {"opportunity": "opportunity"},
    "contracts:contract_create": {"customer": "customer"},
    "orders:order_create": {"customer": "customer"},
    "orders:contract_orders": {"contract": "contract"},
    "service:ticket_create": {"customer": "customer"},
    "service:customer_tickets": {"customer": "customer"},
    "orders:quote_create": {"opportunity": "opportunity"},
    "orders:opportunity_quotes": {"opportunity": "opportunity"},
}


def named_urls(patterns=None, namespace=""):
    """Every named URL of the project as `namespace:name`, found by walking the URLconf."""
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= named_urls(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def project_urls():
    """The admin is Django's, with its own permission checks (tested elsewhere)."""
    return {name for name in named_urls() if not name.startswith("admin:")}


def test_every_named_url_is_in_the_matrix():
    missing = sorted(project_urls() - set(EXPECTED))
    assert not missing, f"Add these URLs to EXPECTED in {__name__}: {missing}"


def test_matrix_names_only_urls_that_exist():
    assert not sorted(set(EXPECTED) - project_urls())


def test_every_named_url_is_in_the_post_matrix():
    missing = sorted(project_urls() - set(EXPECTED_POST))
    assert not missing, f"Add these URLs to EXPECTED_POST in {__name__}: {missing}"
    assert not sorted(set(EXPECTED_POST) - project_urls())


def test_every_matrix_row_covers_every_role():
    for url_name, statuses in [*EXPECTED.items(), *EXPECTED_POST.items()]:
        assert list(statuses) == ROLES, url_name


def step_views():
    """Every URL served by a workflow step view, with its view class."""
    views = {}
    for url_name in project_urls():
        view_class = getattr(resolve_name(url_name).func, "view_class", None)
        if view_class is not None and issubclass(view_class, ServiceActionView):
            views[url_name] = view_class
    return views


def resolve_name(url_name):
    args = [1] * len(URL_ARGS.get(url_name, []))
    return resolve(reverse(url_name, args=args, kwargs=URL_KWARGS.get(url_name)))


def test_every_step_view_checks_the_permission_of_its_workflow_step():
    """A step view without `permission_required` let any role open it (orders did); the
    matrix's step rows and the views read the same workflow table."""
    views = step_views()
    assert {"orders:order_approve", "contracts:contract_approve", "contracts:signing_link_send"} <= set(views)
    assert set(views) == set(STEP_URLS), "Add the step URL to STEP_URLS"
    for url_name, view_class in views.items():
        assert view_class.permission_required == STEP_URLS[url_name][0], url_name


def test_the_walk_finds_urls_of_every_kind():
    """Guard for the meta-test itself: an empty walk would make it pass vacuously."""
    urls = project_urls()
    assert {"health", "login", "dashboard:home", "customers:customer_detail"} <= urls
    assert "admin:index" in named_urls()


@pytest.fixture
def objects(rep):
    customer = CustomerFactory(owner=rep, name="Matrix Customer")
    return {
        "customer": customer,
        "contact": ContactFactory(customer=customer),
        "interaction": InteractionFactory(customer=customer, author=rep),
        "opportunity": (opportunity := OpportunityFactory(customer=customer)),
        "activity": ActivityFactory(customer=customer),
        "contract": ContractFactory(owner=rep, customer=customer),
        "product": (product := ProductFactory()),
        "order": order_for(rep, customer, lines=[line(product)]),
        "ticket": ticket_for(customer, contact=ContactFactory(customer=customer), subject="Matrix ticket"),
        "quote": services.quote_create(
            actor=rep,
            opportunity_id=opportunity.pk,
            lines=[quote_line(product)],
            title="Matrix quote",
            terms="Matrix terms.",
        ),
        "notification": Notification.objects.create(
            recipient=rep, verb="Contract %(number)s is active: both parties signed.", params={"number": "X"}
        ),
        "inbound": (
            inbound := inbound_mail_from_form(
                from_email="stranger@elsewhere.example.org",
                from_name="Stranger",
                subject="Spare parts?",
                body="Do you sell spare parts?",
                attachments=(ParsedAttachment(filename="list.txt", content_type="text/plain", content=b"P-200"),),
            )
        ),
        "attachment": inbound.attachments.get(),
        "segment": (segment := segment_for(rep, name="Matrix segment")),
        "campaign": campaign_for(rep, segment, name="Matrix campaign", subject_zh="", body_zh=""),
        "import_run": import_services.import_run_check(
            actor=rep,
            run_id=import_services.import_run_create(
                actor=rep, kind="customers", file_name="m.csv", content=b"name,email\nMatrix Import Co,bad\n"
            ).pk,
        ),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", sorted(EXPECTED))
def test_get_answers_the_expected_status(request, client, objects, url_name, role):
    args = [objects[arg].pk if isinstance(arg, str) else arg for arg in URL_ARGS.get(url_name, [])]
    url = reverse(url_name, args=args, kwargs=URL_KWARGS.get(url_name))
    query = {param: objects[name].pk for param, name in URL_QUERY.get(url_name, {}).items()}
    if query:
        url = f"{url}?{urlencode(query)}"
    if role != "anonymous":
        client.force_login(request.getfixturevalue(ROLE_FIXTURES.get(role, role)))

    response = client.get(url)

    expected = EXPECTED[url_name][role]
    assert response.status_code == expected, f"GET {url} as {role}"
    if expected == LOGIN:
        assert response["Location"] == redirect_to_login(url)["Location"]
    if expected in (FORBIDDEN, NOT_FOUND):
        assert "Matrix Customer" not in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", sorted(EXPECTED_POST))
def test_post_answers_the_expected_status(request, client, objects, url_name, role):
    url, query = matrix_url(url_name, objects)
    if query:
        url = f"{url}?{urlencode(query)}"
    if role != "anonymous":
        client.force_login(request.getfixturevalue(ROLE_FIXTURES.get(role, role)))
    events = AuditEvent.objects.count()

    response = client.post(url)

    expected = EXPECTED_POST[url_name][role]
    if expected == PASSED:
        assert response.status_code in PASSED_STATUSES, f"POST {url} as {role}: {response.status_code}"
        return
    if expected == DONE:
        assert response.status_code in (200, 302), f"POST {url} as {role}"
        if response.status_code == 302:
            assert response["Location"] != redirect_to_login(url)["Location"], f"POST {url} as {role}"
        return
    assert response.status_code == expected, f"POST {url} as {role}"
    if expected == LOGIN:
        assert response["Location"] == redirect_to_login(url)["Location"]
    if expected in (FORBIDDEN, NOT_FOUND, NOT_ALLOWED, LOGIN):
        assert AuditEvent.objects.count() == events, f"a refused POST {url} as {role} wrote to the audit trail"
        assert "Matrix Customer" not in response.content.decode()


# --- the fuzz pass: hostile query values never answer 500 ----------------------------------
#
# The parameters a URL reads are discovered, not listed (a list would go stale): during one
# normal GET, `request.GET` is a QueryDict that records every key a view, form, FilterSet,
# paginator or middleware asks it for. Each of those keys then gets every hostile value.

HOSTILE = [
    "²",  # str.isdigit() accepts it, int() does not
    "٣",  # an Arabic-Indic digit: isdigit() and int() both accept it
    "-1",
    "0",
    "-0",
    "1.5",
    "1e309",  # a float overflows to infinity; a Decimal keeps it
    "NaN",
    "Infinity",
    "9" * 30,  # beyond bigint
    "",
    "x" * 10_000,
    "\x00",
    "<script>alert(1)</script>",
    "1' OR '1'='1",
    "%",
    "合同 ☃ 🙂",
    "0001-01-01",
    "99999-01-01",
    "2026-02-30",
]
MARKUP = "<script>alert(1)</script>"
FUZZ_ROLES = ["anonymous", "rep", "manager"]


class RecordingQueryDict(QueryDict):
    """A QueryDict that remembers which keys were asked for (in `reads`)."""

    reads: set[str] = set()

    def __getitem__(self, key):
        RecordingQueryDict.reads.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        RecordingQueryDict.reads.add(key)
        return super().__contains__(key)

    def get(self, key, default=None):
        RecordingQueryDict.reads.add(key)
        return super().get(key, default)

    def getlist(self, key, default=None):
        RecordingQueryDict.reads.add(key)
        return super().getlist(key, default)


@pytest.fixture
def recorded_query_reads(monkeypatch):
    """Every request's GET records its reads; the fixture returns the set (cleared here)."""

    def recording_get(self):
        return RecordingQueryDict(get_bytes_from_wsgi(self.environ, "QUERY_STRING", ""), encoding=self._encoding)

    prop = cached_property(recording_get)
    prop.__set_name__(WSGIRequest, "GET")
    monkeypatch.setattr(WSGIRequest, "GET", prop)
    RecordingQueryDict.reads = set()
    return RecordingQueryDict.reads


def matrix_url(url_name, objects):
    args = [objects[arg].pk if isinstance(arg, str) else arg for arg in URL_ARGS.get(url_name, [])]
    query = {param: objects[name].pk for param, name in URL_QUERY.get(url_name, {}).items()}
    return reverse(url_name, args=args, kwargs=URL_KWARGS.get(url_name)), query


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content)  # runs the generator: a CSV must not break half-way
    return response.content


def discover_query_params(client, url, query, reads):
    """The keys one ordinary GET reads. A marker key makes the query string non-empty, so a
    FilterSet is bound and its form reads each of its fields."""
    reads.clear()
    body(client.get(url, {**query, "fuzz-marker": "1"}))
    return sorted(reads - {"fuzz-marker"})


def test_the_discovery_finds_the_parameters_views_read(client, manager, objects, recorded_query_reads):
    """Guard for the fuzz pass itself: a discovery that finds nothing would pass vacuously."""
    client.force_login(manager)
    found = {
        url_name: set(discover_query_params(client, *matrix_url(url_name, objects), recorded_query_reads))
        for url_name in [
            "contracts:contract_list",
            "orders:order_create",
            "orders:order_line_form",
            "contracts:contract_diff",
        ]
    }
    assert {"q", "status", "customer", "owner", "amount_min", "expiring_within", "sort", "page"} <= found[
        "contracts:contract_list"
    ]
    assert {"customer", "contract"} <= found["orders:order_create"]
    assert "index" in found["orders:order_line_form"]
    assert {"from", "to"} <= found["contracts:contract_diff"]


def fuzz_roles(url_name):
    """Rep and manager everywhere; anonymous where the page is public (a redirect reads nothing)."""
    return [role for role in FUZZ_ROLES if role != "anonymous" or EXPECTED[url_name]["anonymous"] != LOGIN]


@pytest.mark.parametrize("url_name", sorted(EXPECTED))
def test_hostile_query_values_never_answer_500(request, client, objects, recorded_query_reads, url_name):
    url, query = matrix_url(url_name, objects)
    failures = []
    for role in fuzz_roles(url_name):
        client.logout()
        if role != "anonymous":
            client.force_login(request.getfixturevalue(ROLE_FIXTURES.get(role, role)))
        for param in discover_query_params(client, url, query, recorded_query_reads):
            for value in HOSTILE:
                failure = hostile_get(client, url, {**query, param: value})
                if failure:
                    failures.append(f"as {role} ?{param}={value[:20]!r}: {failure}")
    assert not failures, f"GET {url}:\n" + "\n".join(failures)


def hostile_get(client, url, query):
    """What is wrong with the answer to one hostile query, or None."""
    try:
        response = client.get(url, query)
        content = body(response)
    except Exception as error:  # the test client re-raises what would have been a 500
        return f"{type(error).__name__}: {str(error)[:120]}"
    if response.status_code >= 500:
        return str(response.status_code)
    if response.get("Content-Type", "").startswith("text/html") and MARKUP.encode() in content:
        return "markup reflected unescaped"
    return None
