import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.utils.safestring import SafeData, mark_safe

from crm.core.history import field_value
from crm.core.masking import Masker, mask_email, mask_phone, mask_text, masker_for


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


# --- free text: real phone detection, not a digit run ------------------------------------

TERMS = (
    "From 2026-12-01 until 2026-12-31 the price is 1,234,567.00 CNY (12345678.90 net), "
    "replacing CT-2026-000123 and order SO-2026-000045; deliver to postcode 100020 at 12:30."
)


def test_dates_amounts_postcodes_and_document_numbers_survive_masking():
    assert mask_text(TERMS) == TERMS


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Call 13912345678 today", "Call 139****5678 today"),
        ("Call +86 139 1234 5678.", "Call 861****5678."),
        ("Office 010-6552 8888", "Office 010****8888"),
        ("Office (010) 6552-8888", "Office 010****8888"),
        ("电话13912345678。", "电话139****5678。"),
        ("tel13912345678", "tel139****5678"),
        ("Mail li.wei+crm@mail.example.cn now", "Mail l***@mail.example.cn now"),
        ("13911112222@qq.com", "1***@qq.com"),
    ],
)
def test_phones_and_emails_inside_text_are_masked(text, masked):
    assert mask_text(text) == masked


def test_numbers_without_a_country_code_are_read_in_the_region_of_the_setting(settings):
    assert settings.PHONE_REGION == "CN"
    assert mask_text("Call 13912345678 or (650) 253-0000") == "Call 139****5678 or (650) 253-0000"
    settings.PHONE_REGION = "US"
    assert mask_text("Call 13912345678 or (650) 253-0000") == "Call 13912345678 or 650****0000"
    assert mask_text("Call +86 139 1234 5678") == "Call 861****5678"  # a country code reads anywhere


# --- one masker per reader --------------------------------------------------------------


def test_the_masker_follows_the_reveal_and_terms_permissions(rep, manager, finance, signatory, agent):
    assert masker_for(rep) == Masker(reveal=True, reveal_terms=True)
    assert masker_for(manager).reveal
    assert masker_for(finance) == Masker(reveal=False, reveal_terms=True)
    assert masker_for(signatory) == Masker(reveal=False, reveal_terms=True)
    assert masker_for(agent) == Masker(reveal=False, reveal_terms=False)
    assert masker_for(AnonymousUser()) == Masker()


def test_a_masker_masks_text_terms_and_nested_data():
    finance = Masker(reveal_terms=True)
    assert finance.terms("Notices: 13912345678") == "Notices: 13912345678"
    assert finance.text("Notices: 13912345678") == "Notices: 139****5678"
    assert Masker().terms("Notices: 13912345678") == "Notices: 139****5678"
    assert Masker().data({"notes": ["a 13912345678", None, 3], "x": {"y": "b@c.example.com"}}) == {
        "notes": ["a 139****5678", None, 3],
        "x": {"y": "b***@c.example.com"},
    }
    assert Masker(reveal=True).data({"a": "13912345678"}) == {"a": "13912345678"}


def test_markup_a_view_made_safe_stays_safe_when_masked():
    masked = Masker().text(mark_safe("<b>13912345678</b>"))
    assert masked == "<b>139****5678</b>" and isinstance(masked, SafeData)


def test_the_history_masks_every_field_not_only_known_ones():
    for field in ("subject", "title", "reason", "anything"):
        shown = field_value(None, "ring 13912345678", Masker(), field_name=field)
        assert shown == "ring 139****5678", field
    shown = field_value(None, "139-1234", Masker(), field_name="phone")
    assert shown == "*****34"  # a phone field is masked whole, valid number or not


def test_a_template_filter_forgets_nothing_when_given_a_plain_flag():
    """Merged templates that still pass `reveal` keep masking."""
    page = Template("{% load crm_tags %}{{ value|text:reveal }}")
    assert page.render(Context({"value": "13912345678", "reveal": False})) == "139****5678"
    assert page.render(Context({"value": "13912345678", "reveal": True})) == "13912345678"


def test_the_history_of_contract_terms_is_in_full_for_those_who_approve_or_sign(rep, finance, agent):
    from contracts.tests.factories import ContractFactory, contract_events
    from customers.tests.factories import CustomerFactory

    contract = ContractFactory(owner=rep, customer=CustomerFactory(owner=rep), body="Notices: 13912345678\n")
    event = contract_events(contract, "contract.created").get()

    def shown(user, field, value):
        model_field = contract._meta.get_field(field)
        return field_value(model_field, value, masker_for(user), field_name=field, model="contracts.contract")

    assert "13912345678" in shown(finance, "body", event.changes["body"][1])
    assert "139****5678" in shown(agent, "body", event.changes["body"][1])
    assert shown(finance, "ended_reason", "Call 13912345678") == "Call 139****5678"  # not a term


def test_the_history_masks_a_number_cut_at_the_limit_it_shows():
    shown = field_value(None, "x" * 12 + " 13912345678" + "y" * 500, Masker(), field_name="body", limit=20)
    assert len(shown) == 20 and "1234" not in shown and shown.startswith("x" * 12 + " 139*")
