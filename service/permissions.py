"""What each role may do at the service desk (merged into the role groups by `roles_sync`)."""

from crm.core.roles import Role

_WORK = [
    "service.view_ticket",
    "service.add_ticket",
    "service.change_ticket",
    "service.claim_ticket",
    "service.work_ticket",
    "service.reopen_ticket",
    "service.view_ticketentry",
    "service.view_agentduty",
    # The mail nobody could match is the desk's shared queue; agents sort it.
    "service.view_inboundmail",
    "service.view_all_inboundmail",
    "service.sort_inboundmail",
    "service.view_ticketattachment",
    "service.view_satisfactionrating",
]

ROLE_PERMISSIONS = {
    Role.SERVICE_AGENT: _WORK,
    Role.SERVICE_MANAGER: [
        *_WORK,
        "service.view_all_ticket",
        "service.assign_ticket",
        "service.change_agentduty",
        "service.view_slapolicy",
        "service.view_businesscalendar",
    ],
    # A rep reads the tickets of the customers they own; a sales manager reads all.
    Role.SALES_REP: ["service.view_ticket", "service.view_ticketentry"],
    Role.SALES_MANAGER: ["service.view_ticket", "service.view_all_ticket", "service.view_ticketentry"],
}
