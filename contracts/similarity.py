"""Contracts that read like this one, among those the user may see.

TF-IDF over character n-grams inside words (`char_wb`, 2-4) works for Chinese, which
has no spaces between words, as well as for English, and tolerates small edits. The
vectors are L2-normalised, so the dot product is the cosine similarity.
"""

import numpy as np
from django.db.models.functions import Substr
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from contracts.models import Contract

MIN_SCORE = 0.1
# Enough of the body to tell contracts apart; keeps a page fast on long contracts.
BODY_CHARS = 3000


def _text(title, body) -> str:
    # The title twice: it says what the contract is about more than the boilerplate does.
    return f"{title}\n{title}\n{body or ''}"


def similar_contracts(contract, *, user, limit=5, candidates=2000) -> list[tuple[Contract, float]]:
    """`[(contract, score)]` for the visible contracts most like `contract`, best first.

    Only the newest `candidates` contracts the user may see are compared, never the
    contract itself; only scores above `MIN_SCORE` are kept.
    """
    pool = list(
        Contract.objects.visible_to(user)
        .exclude(pk=contract.pk)
        .order_by("-created_at", "-id")
        .values_list("pk", "title", Substr("body", 1, BODY_CHARS))[:candidates]
    )
    if not pool:
        return []
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float32)
    matrix = vectorizer.fit_transform(
        [_text(contract.title, contract.body[:BODY_CHARS])] + [_text(title, body) for _pk, title, body in pool]
    )
    scores = linear_kernel(matrix[0], matrix[1:]).ravel()
    best = [index for index in np.argsort(-scores, kind="stable")[:limit] if scores[index] > MIN_SCORE]
    if not best:
        return []
    found = Contract.objects.select_related("customer", "owner").in_bulk([pool[index][0] for index in best])
    return [(found[pool[index][0]], float(scores[index])) for index in best if pool[index][0] in found]
