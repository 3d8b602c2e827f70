"""Template context shared by every page."""

from crm.core.masking import masker_for


def masking(request):
    """`masker` for the filters (`{{ value|text:masker }}`) and `reveal` for styling."""
    masker = masker_for(getattr(request, "user", None))
    return {"masker": masker, "reveal": masker.reveal}
