"""Fixtures shared by the contracts tests.

`rules` is not autouse: the modules that work with approval levels say so with
`pytestmark = [..., pytest.mark.usefixtures("rules")]` (transactional modules set their rules
up inside their own fixtures, after the flush).
"""

import pytest

from contracts.tests.factories import default_approval_rules
from contracts.tests.test_signing_workflow import signing_people


@pytest.fixture
def rules(db):
    """The default approval rules by amount."""
    return default_approval_rules()


@pytest.fixture
def people(rep, other_rep, manager, signatory, admin_user):
    """Who takes part in signing, and a customer of `rep`'s with an e-mail address."""
    return signing_people(rep, other_rep, manager, signatory, admin_user)
