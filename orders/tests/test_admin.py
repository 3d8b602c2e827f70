"""The admin reads orders and moves them along through the same services as the pages."""

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages
from django.urls import reverse

from crm.core.roles import Role
from crm.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory
from orders import services
from orders.choices import OrderStatus as S
from orders.models import Order, Product
from orders.tests.factories import ProductFactory, assert_audited, events_about, line, order_for, reload

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:orders_order_changelist"


@pytest.fixture
def customer(rep):
    return CustomerFactory(owner=rep)


@pytest.fixture
def pending(rep, customer, pump):
    order = order_for(rep, customer, lines=[line(pump)])  # no contract: needs a manager's approval
    return services.order_submit(actor=rep, order_id=order.pk)


def run_action(client, action, orders):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [order.pk for order in orders], "index": 0},
        follow=True,
    )


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_approving_from_the_admin_goes_through_the_service(client_for, admin_user, pending):
    response = run_action(client_for(admin_user), "approve_selected", [pending])

    assert response.status_code == 200
    assert texts(response) == ["1 order(s) approved."]
    order = reload(pending)
    assert (order.status, order.approved_by) == (S.APPROVED, admin_user)
    event = assert_audited(
        order, "order.approved", actor=admin_user, changes={"status": [S.PENDING_APPROVAL, S.APPROVED]}
    )
    assert event.source == "admin"


def test_each_refusal_is_reported_per_order(client_for, admin_user, rep, customer, pump, pending):
    draft = order_for(rep, customer, lines=[line(pump)])

    response = run_action(client_for(admin_user), "approve_selected", [pending, draft])

    assert texts(response) == [
        f"{draft.number}: This order is draft; there is nothing to decide.",
        "1 order(s) approved.",
    ]
    assert (reload(pending).status, reload(draft).status) == (S.APPROVED, S.DRAFT)
    assert not events_about(draft, "order.approved").exists()


def test_the_fulfilment_actions_take_each_step(client_for, manager, pending):
    other_manager = UserFactory(username="admin_manager", role=Role.SALES_MANAGER, is_staff=True)
    client = client_for(other_manager)
    run_action(client, "approve_selected", [pending])
    run_action(client, "start_fulfilment_selected", [pending])
    assert reload(pending).status == S.IN_FULFILMENT
    run_action(client, "deliver_selected", [pending])
    assert reload(pending).status == S.DELIVERED
    response = run_action(client, "close_selected", [pending])
    assert texts(response) == ["1 order(s) closed."]
    event = assert_audited(reload(pending), "order.closed", actor=other_manager)
    assert event.source == "admin"


def test_a_step_from_the_wrong_state_is_refused_with_the_reason(client_for, admin_user, pending):
    response = run_action(client_for(admin_user), "deliver_selected", [pending])
    assert texts(response) == [f"{pending.number}: An order that is pending approval cannot become delivered."]
    assert reload(pending).status == S.PENDING_APPROVAL


def test_the_admin_cannot_add_change_or_delete_orders(client_for, admin_user, pending):
    client = client_for(admin_user)
    assert client.get(reverse("admin:orders_order_add")).status_code == 403
    change = client.get(reverse("admin:orders_order_change", args=[pending.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert pending.number.encode() in change.content
    assert client.post(reverse("admin:orders_order_delete", args=[pending.pk]), {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=pending.pk).exists()


def test_the_order_list_shows_only_what_the_user_may_see(client_for, rep, other_rep, customer, pump):
    mine = order_for(rep, customer, lines=[line(pump)])
    theirs = order_for(other_rep, CustomerFactory(owner=other_rep), lines=[line(pump)])
    rep.is_staff = True
    rep.save()

    response = client_for(rep).get(reverse(CHANGELIST))

    assert response.status_code == 200
    shown = {order.pk for order in response.context["cl"].result_list}
    assert shown == {mine.pk}
    assert theirs.pk not in shown
    assert client_for(rep).get(reverse("admin:orders_order_change", args=[theirs.pk])).status_code == 302


def test_a_rep_is_not_offered_manager_actions(client_for, rep, customer, pump):
    order_for(rep, customer, lines=[line(pump)])
    rep.is_staff = True
    rep.save()
    response = client_for(rep).get(reverse(CHANGELIST))
    assert response.context["action_form"] is None or not [
        name for name, _label in response.context["action_form"].fields["action"].choices if name
    ]


def test_a_product_added_in_the_admin_goes_through_the_service(client_for, admin_user):
    response = client_for(admin_user).post(
        reverse("admin:orders_product_add"),
        {
            "sku": "FLT-9",
            "name": "Oil filter",
            "description": "",
            "unit_price": "12.50",
            "currency": "CNY",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    product = Product.objects.get(sku="FLT-9")
    event = assert_audited(product, "product.created", actor=admin_user)
    assert event.changes["unit_price"] == [None, "12.50"]
    assert event.source == "admin"


def test_a_product_changed_in_the_admin_goes_through_the_service(client_for, admin_user, pump):
    response = client_for(admin_user).post(
        reverse("admin:orders_product_change", args=[pump.pk]),
        {
            "sku": pump.sku,
            "name": pump.name,
            "description": "",
            "unit_price": "1100.00",
            "currency": "CNY",
        },
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    event = assert_audited(
        pump,
        "product.updated",
        actor=admin_user,
        changes={"unit_price": ["1000.00", "1100.00"], "is_active": [True, False]},
    )
    assert event.source == "admin"


def test_products_are_listed_and_searched(client_for, admin_user, pump, manager):
    ProductFactory(actor=manager, sku="VLV-20", name="Ball valve")
    response = client_for(admin_user).get(reverse("admin:orders_product_changelist"), {"q": "valve"})
    assert [product.sku for product in response.context["cl"].result_list] == ["VLV-20"]
    assert (
        client_for(admin_user).post(reverse("admin:orders_product_delete", args=[pump.pk]), {"post": "yes"}).status_code
        == 403
    )
