"""The navigation's search box: one provider per kind of record, registered by the app that
owns the records (in its `AppConfig.ready()`), so a new app (quotes, tickets) joins the box
without editing it.

A provider says how to find the records a user may see that match the text (its app's
`<entity>_search` selector over its `<entity>_list`), how one reads as a hit (heading, summary
and link, masked for the reader), and which list shows them all. `search_everything` asks
every provider the user holds the permission for and returns the groups in the providers'
order, each with its first hits and a count capped at `SEARCH_COUNT_CAP` (counting every match
of a short fragment over a million rows would cost more than the search itself).

Text the reader would see masked (a phone number, an e-mail address) finds nothing for a
reader without the permission to see contact details: a masked value cannot be confirmed by
probing the box, exactly as in the lists' own filters.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse

from crm.core.gram_search import few_matches_sorted, many_matches_newest, search_match_counts
from crm.core.masking import Masker, masker_for
from crm.core.types import Viewer

SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 100
SEARCH_COUNT_CAP = 100


@dataclass(frozen=True)
class SearchHit:
    """One record as the box shows it; `heading` and `summary` are already masked for the reader."""

    heading: str
    summary: str
    url: str


@dataclass(frozen=True)
class SearchProvider:
    """How one kind of record is searched.

    `find(user, text)`: the matching records the user may see, in the order to show them;
    `hit(record, masker)`: the record as a hit; `list_url_name`: the list page whose `q`
    filter shows every match; `position`: where the group stands in the box (lowest first).
    """

    kind: str
    label: Any  # a lazy translation
    permission: str
    find: Callable[[Viewer, str], QuerySet]
    hit: Callable[[Any, Masker], SearchHit]
    list_url_name: str
    position: int = 100


@dataclass
class SearchGroup:
    provider: SearchProvider
    hits: list[SearchHit] = field(default_factory=list)
    count: int = 0
    text: str = ""

    @property
    def kind(self) -> str:
        return self.provider.kind

    @property
    def label(self) -> Any:
        return self.provider.label

    @property
    def count_capped(self) -> bool:
        """Whether there are more matches than were counted (shown as "100+")."""
        return self.count > SEARCH_COUNT_CAP

    @property
    def shown_count(self) -> int:
        return min(self.count, SEARCH_COUNT_CAP)

    @property
    def list_url(self) -> str:
        return f"{reverse(self.provider.list_url_name)}?{urlencode({'q': self.text})}"


_providers: dict[str, SearchProvider] = {}


def search_provider_register(provider: SearchProvider) -> None:
    """Add a kind of record to the search box (called in `ready()`; registering a kind again replaces it)."""
    _providers[provider.kind] = provider


def search_providers() -> list[SearchProvider]:
    return sorted(_providers.values(), key=lambda provider: (provider.position, provider.kind))


def search_everything(*, user: Viewer, text: str, limit: int = 5) -> list[SearchGroup]:
    """The groups of records the user may see that match `text`, each with up to `limit`
    hits; a kind without a match is left out. Text too short to mean anything finds nothing."""
    text = " ".join(text.split())[:SEARCH_MAX_LENGTH]
    if len(text) < SEARCH_MIN_LENGTH:
        return []
    masker = masker_for(user)
    if masker.hides(text):
        return []
    found = [
        (provider, provider.find(user, text)) for provider in search_providers() if user.has_perm(provider.permission)
    ]
    counts = search_match_counts([matches.values("pk") for _, matches in found], SEARCH_COUNT_CAP)
    groups = []
    for (provider, matches), count in zip(found, counts, strict=True):
        if not count:
            continue
        if count <= SEARCH_COUNT_CAP:
            ids = few_matches_sorted(matches.values_list("pk", flat=True)[:limit])
            by_id = matches.order_by().in_bulk(ids)
            records = [by_id[pk] for pk in ids if pk in by_id]
        else:  # newest first, as the lists show a search of that many matches (CappedListMixin)
            records = many_matches_newest(matches.order_by("-pk")[:limit])
        hits = [provider.hit(record, masker) for record in records]
        groups.append(SearchGroup(provider=provider, hits=hits, count=count, text=text))
    return groups
