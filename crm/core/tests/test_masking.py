import pytest

from crm.core.masking import mask_email, mask_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800135678", "138****5678"),
        ("138-0013-5678", "138****5678"),
        ("+86 138 0013 5678", "861****5678"),
        ("(010) 6552-9988", "010****9988"),
        ("1234567", "*****67"),
        ("12345", "***45"),
        ("", ""),
        (None, ""),
        ("n/a", ""),
    ],
)
def test_mask_phone_keeps_only_the_ends_of_the_number(phone, masked):
    assert mask_phone(phone) == masked


def test_masked_phone_never_contains_the_middle_digits():
    assert "0013" not in mask_phone("13800135678")


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("john@example.com", "j***@example.com"),
        ("Li.Wei+crm@mail.example.cn", "L***@mail.example.cn"),
        ("a@b.co", "a***@b.co"),
        ("no-at-sign", "n***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_email_keeps_first_letter_and_domain(email, masked):
    assert mask_email(email) == masked


def test_masked_email_hides_the_local_part():
    assert "ohn" not in mask_email("john@example.com")
