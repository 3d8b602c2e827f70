"""What each role may do in marketing (merged into the role groups by `roles_sync`).

A rep builds segments of the customers they own and drafts campaigns to them (with a test
send to themselves); a sales manager sees every segment and campaign and is the one who
schedules, sends and cancels: a mass mailing goes out with a manager's decision."""

from crm.core.roles import Role

_DRAFT = [
    "marketing.view_segment",
    "marketing.add_segment",
    "marketing.change_segment",
    "marketing.delete_segment",
    "marketing.view_campaign",
    "marketing.add_campaign",
    "marketing.change_campaign",
    "marketing.view_recipient",
    "marketing.view_campaignopportunity",
]

ROLE_PERMISSIONS = {
    Role.SALES_REP: _DRAFT,
    Role.SALES_MANAGER: [
        *_DRAFT,
        "marketing.view_all_segment",
        "marketing.view_all_campaign",
        "marketing.send_campaign",
        "marketing.view_suppression",
        "marketing.view_returnedmail",
    ],
}
