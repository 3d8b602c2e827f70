"""The service desk's mail journey in a real Chromium: a customer writes through the public
form, an agent replies, the customer answers by e-mail (a message dropped in the desk's
Maildir, fetched by `fetch_ticket_mail`), the agent resolves, the customer rates 2 through
the link in their mail, and the service manager is alerted."""

import mailbox
import re

import pytest
from django.core import mail
from django.core.management import call_command

from crm.core.tests.browser import browser_page, log_in, save_artifacts
from customers.tests.factories import ContactFactory, CustomerFactory
from service.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

CONTACT = "li.wei@example.com"


def mail_to(address, containing):
    found = [message for message in mail.outbox if message.to == [address] and containing in message.subject]
    assert found, f"no mail to {address} about {containing!r}: {[m.subject for m in mail.outbox]}"
    return found[-1]


def local_path(body, kind):
    return re.search(rf"https?://[^/\s]+(/service/{kind}/\S+/)", body).group(1)


def test_form_reply_mail_answer_resolve_rate_and_the_manager_is_alerted(
    browser, live_server, page, request, tmp_path, rep, agent, service_manager
):
    customer = CustomerFactory(owner=rep, name="Hangzhou Printing Co")
    ContactFactory(customer=customer, name="Li Wei", email=CONTACT)
    desk_maildir = mailbox.Maildir(tmp_path / "desk", create=True)

    def as_customer(name):
        nodeid = f"{request.node.nodeid}-{name}"
        return browser_page(browser, live_server.url, nodeid, failed=lambda: False), nodeid

    # 1. The customer writes through the public form, without logging in.
    context, nodeid = as_customer("form")
    with context as outside:
        try:
            outside.goto("/service/help/", timeout=60_000)  # the live server's first page is slow to warm up
            outside.get_by_label("Your name").fill("Li Wei")
            outside.get_by_label("Your e-mail address").fill(CONTACT)
            outside.get_by_label("What is it about?").select_option("complaint")
            outside.get_by_label("Subject").fill("The printer does not start")
            outside.get_by_label("Your message").fill("The display stays dark after power-on.")
            outside.get_by_role("button", name="Send").click()
            expect(outside.get_by_test_id("ticket-number")).to_have_text(re.compile(r"TK-\d{4}-\d{6}"))
            number = outside.get_by_test_id("ticket-number").inner_text()
        except BaseException:
            save_artifacts(outside, nodeid)
            raise
    ticket = Ticket.objects.get(number=number)
    assert ticket.assignee == agent  # the only agent on duty
    mail_to(CONTACT, "We received your request")

    # 2. The agent finds it in their queue and replies publicly.
    log_in(page, agent)
    page.get_by_role("navigation").get_by_role("link", name="Service", exact=True).click()
    page.get_by_role("link", name=number).first.click()
    page.get_by_label("Text").fill("Please hold the power button for ten seconds.")
    page.get_by_label("Public reply (e-mailed to the contact)").check()
    page.get_by_role("button", name="Add to the record").click()
    expect(page.get_by_role("alert")).to_contain_text("e-mailed to the contact")
    reply = mail_to(CONTACT, number)
    assert reply.body.startswith("Please hold the power button for ten seconds.")

    # 3. The customer answers by e-mail; the mail lands in the desk's Maildir and is fetched.
    desk_maildir.add(
        (
            f"Message-ID: <answer-browser@mail.example.com>\n"
            f"In-Reply-To: {reply.extra_headers['Message-ID']}\n"
            f"From: Li Wei <{CONTACT}>\nTo: support@crm.localhost\n"
            f"Subject: Re: {reply.subject}\nContent-Type: text/plain; charset=utf-8\n\n"
            "I held it for ten seconds; now it starts.\n\n"
            "On Tuesday, Support wrote:\n> Please hold the power button for ten seconds.\n"
        ).encode()
    )
    call_command("fetch_ticket_mail", "--maildir", str(tmp_path / "desk"), verbosity=0)
    page.reload()
    expect(page.locator("main")).to_contain_text("I held it for ten seconds; now it starts.")

    # 4. The agent resolves the ticket.
    page.get_by_role("link", name="Resolve", exact=True).click()
    page.get_by_label("How was it resolved?").fill("A long press reset the controller.")
    page.get_by_role("button", name="Resolve ticket").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{number}")
    survey = mail_to(CONTACT, "How did we do?")

    # 5. The customer rates 2 through the link in their mail.
    context, nodeid = as_customer("rating")
    with context as outside:
        try:
            outside.goto(local_path(survey.body, "rate"))
            expect(outside.get_by_role("heading", level=1)).to_contain_text(number)
            outside.get_by_label("2 – dissatisfied").check()
            outside.get_by_label("Comment").fill("It took three days.")
            outside.get_by_role("button", name="Send rating").click()
            expect(outside.get_by_test_id("rating-received")).to_contain_text("You rated our service 2 of 5.")
            # The link is used up.
            outside.goto(local_path(survey.body, "rate"))
            expect(outside.get_by_test_id("link-error")).to_contain_text("already rated")
        except BaseException:
            save_artifacts(outside, nodeid)
            raise

    # 6. The service manager is alerted, in the app and by mail.
    page.get_by_role("button", name="Log out").click()
    log_in(page, service_manager)
    expect(page.get_by_test_id("nav-notifications-count")).to_be_visible()
    page.get_by_test_id("nav-notifications").click()
    expect(page.locator("main")).to_contain_text(f"Hangzhou Printing Co rated {number} 2 of 5: It took three days.")
    mail_to(service_manager.email, f"rated {number} 2 of 5")
