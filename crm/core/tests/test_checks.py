import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from crm.core.checks import check_secret_key_is_set, require_secret_key_to_serve


@override_settings(SECRET_KEY_FROM_ENVIRONMENT=False, DEBUG=False)
def test_without_a_secret_key_the_deploy_check_fails_and_serving_refuses():
    assert [error.id for error in check_secret_key_is_set(None)] == ["crm.E001"]
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        require_secret_key_to_serve()


@override_settings(SECRET_KEY_FROM_ENVIRONMENT=True, DEBUG=False)
def test_with_a_secret_key_from_the_environment_all_is_well():
    assert check_secret_key_is_set(None) == []
    require_secret_key_to_serve()


def test_a_bad_audit_checkpoint_signer_fails_the_system_check(settings):
    from crm.core.checks import check_audit_checkpoint_signer

    assert check_audit_checkpoint_signer(None) == []
    settings.AUDIT_CHECKPOINT_SIGNER = "contracts.signing.nowhere.Signer"
    assert [error.id for error in check_audit_checkpoint_signer(None)] == ["crm.E002"]
