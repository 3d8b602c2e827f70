"""The quote pages: writing one from its opportunity, the detail, the PDF, the customer's
link (token exchanged for a session, no-store, accept, decline, gone once used), and an
order against the resulting contract starting from the quote's lines."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from customers.tests.factories import ContactFactory
from orders.choices import QuoteStatus as QS
from orders.models import Quote
from orders.tests.factories import ProductFactory, opportunity_for, quote_for, quote_line, quote_sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def opportunity(rep, customer):
    return opportunity_for(rep, customer, title="Tea line upgrade")


def quote_form(product, **changes):
    data = {
        "title": "Tea line upgrade",
        "language": "en",
        "currency": "CNY",
        "valid_until": "",
        "terms": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": str(product.pk),
        "lines-0-quantity": "3",
        "lines-0-discount_percent": "0",
        "lines-0-tax_rate": "13",
        "lines-0-line_text": "Installed on site",
    }
    return {**data, **changes}


def test_a_rep_writes_a_quote_from_the_opportunity(client, rep, opportunity, pump):
    client.force_login(rep)
    card = client.get(reverse("orders:opportunity_quotes") + f"?opportunity={opportunity.pk}")
    assert "New quote" in card.content.decode()
    response = client.post(reverse("orders:quote_create") + f"?opportunity={opportunity.pk}", quote_form(pump))
    quote = Quote.objects.get(opportunity=opportunity)
    assert response.status_code == 302 and response["Location"] == quote.get_absolute_url()
    assert quote.gross_total == Decimal("3390.00") and "Payment" in quote.terms
    page = client.get(quote.get_absolute_url()).content.decode()
    assert "3,390.00 CNY" in page and "Installed on site" in page and "Send to customer" in page


def test_bad_lines_show_next_to_the_form(client, rep, opportunity, pump):
    client.force_login(rep)
    response = client.post(
        reverse("orders:quote_create") + f"?opportunity={opportunity.pk}",
        quote_form(pump, **{"lines-0-tax_rate": "140", "lines-0-quantity": "0"}),
    )
    assert response.status_code == 200 and not Quote.objects.exists()
    assert "invalid-feedback" in response.content.decode()


def test_the_staff_pdf_is_a_pdf(client, rep, opportunity):
    quote = quote_for(rep, opportunity)
    client.force_login(rep)
    response = client.get(reverse("orders:quote_pdf", args=[quote.pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_sending_from_the_page_mails_the_chosen_contact(
    client, rep, customer, opportunity, django_capture_on_commit_callbacks
):
    contact = ContactFactory(customer=customer, name="Wang Fang", email="wang@tea.example.com")
    quote = quote_for(rep, opportunity)
    client.force_login(rep)
    page = client.get(reverse("orders:quote_send", args=[quote.pk])).content.decode()
    assert "Wang Fang" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("orders:quote_send", args=[quote.pk]), {"contact": contact.pk}, follow=True)
    assert "was e-mailed" in response.content.decode()
    message = next(message for message in mail.outbox if message.to == ["wang@tea.example.com"])
    assert message.attachments[0][2] == "application/pdf"


def link_path(url):
    return re.sub(r"^https?://[^/]+", "", url)


def test_the_customer_views_and_accepts_through_the_link(client, rep, opportunity):
    quote, token = quote_sent(rep, opportunity)
    start = client.get(reverse("orders:quote_public_start", args=[token]))
    assert start.status_code == 302 and token not in start["Location"]
    page = client.get(start["Location"])
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "1,130.00 CNY" in page.content.decode()
    pdf = client.get(reverse("orders:quote_public_pdf"))
    assert pdf.content.startswith(b"%PDF")
    refused = client.post(start["Location"], {"full_name": "Zhao Lei"})
    assert "Tick the box" in refused.content.decode()
    done = client.post(start["Location"], {"full_name": "Zhao Lei", "accepted": "on"})
    assert "Zhao Lei accepted quote" in done.content.decode()
    quote.refresh_from_db()
    assert quote.status == QS.ACCEPTED and quote.decided_ip == "127.0.0.1"
    again = client.get(reverse("orders:quote_public_start", args=[token]))
    assert again.status_code == 410 and "already used" in again.content.decode()


def test_the_customer_declines_with_a_reason(client, rep, opportunity):
    quote, token = quote_sent(rep, opportunity)
    client.get(reverse("orders:quote_public_start", args=[token]))
    response = client.post(reverse("orders:quote_public_decline"), {"reason": "Budget cut"})
    assert "You declined quote" in response.content.decode()
    quote.refresh_from_db()
    assert (quote.status, quote.decline_reason) == (QS.DECLINED, "Budget cut")


def test_the_customer_page_speaks_the_quotes_language(client, rep, opportunity):
    _quote, token = quote_sent(rep, opportunity, language="zh-hans")
    page = client.get(reverse("orders:quote_public_start", args=[token]), follow=True).content.decode()
    assert "接受报价" in page and "下载 PDF" in page


def test_without_a_link_the_customer_pages_are_gone(client):
    assert client.get(reverse("orders:quote_public")).status_code == 410
    assert client.get(reverse("orders:quote_public_start", args=["nope"])).status_code == 410


def test_an_order_against_the_quotes_contract_starts_from_its_lines(client, rep, manager, signatory, opportunity):
    from orders.tests.test_quotes import activate

    product = ProductFactory(actor=manager, sku="TEA-9", unit_price=Decimal("500.00"))
    quote, _token = quote_sent(rep, opportunity, lines=[quote_line(product, 4, discount_percent=5)])
    from orders import services

    quote = services.quote_accept(link_id=quote.links.get().pk, full_name="Zhao Lei", accepted=True)
    contract = activate(contract=quote.contract, owner=rep, manager=manager, signatory=signatory)
    client.force_login(rep)
    form = client.get(reverse("orders:order_create") + f"?contract={contract.pk}").content.decode()
    assert re.search(rf'<option value="{product.pk}"[^>]*selected', form)
    assert 'name="lines-0-quantity" value="4' in form and 'name="lines-0-discount_percent" value="5' in form
