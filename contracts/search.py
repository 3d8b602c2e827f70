"""Contracts in the navigation's search box (registered in `apps.py`)."""

from django.utils.translation import gettext_lazy as _

from contracts.selectors import contract_list, contract_search
from crm.core.search import SearchHit, SearchProvider


def _contracts(user, text):
    return contract_search(contract_list(user=user), text).order_by("-created_at", "-pk")


def _contract_hit(contract, masker):
    return SearchHit(
        heading=f"{contract.number} {masker.terms(contract.title)}",
        summary=f"{masker.text(contract.customer.name)} · {contract.get_status_display()}",
        url=contract.get_absolute_url(),
    )


PROVIDERS = [
    SearchProvider(
        kind="contracts",
        label=_("Contracts"),
        permission="contracts.view_contract",
        find=_contracts,
        hit=_contract_hit,
        list_url_name="contracts:contract_list",
        position=30,
    )
]
