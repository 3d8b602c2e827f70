"""What each role may do with contracts."""

from crm.core.roles import Role

_DRAFTING = [
    "contracts.view_contract",
    "contracts.add_contract",
    "contracts.change_contract",
    "contracts.submit_contract",
    "contracts.cancel_contract",
]
_READ_ALL = ["contracts.view_contract", "contracts.view_all_contract"]

ROLE_PERMISSIONS = {
    Role.SALES_REP: _DRAFTING,
    Role.SALES_MANAGER: [
        *_DRAFTING,
        *_READ_ALL,
        "contracts.approve_contract",
        "contracts.complete_contract",
        "contracts.terminate_contract",
    ],
    Role.FINANCE_APPROVER: [*_READ_ALL, "contracts.approve_contract"],
    Role.SIGNATORY: [*_READ_ALL, "contracts.sign_contract"],
    Role.SERVICE_AGENT: _READ_ALL,
    Role.SERVICE_MANAGER: _READ_ALL,
}
