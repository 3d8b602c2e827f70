"""What hangs off a customer appears on its page only for roles that may see it."""

from customers.tests.factories import CustomerFactory, InteractionFactory


def test_the_timeline_is_hidden_from_roles_without_it(client_for, rep, signatory, agent):
    customer = CustomerFactory(owner=rep)
    InteractionFactory(customer=customer, subject="Price negotiation notes")

    assert "Price negotiation notes" not in client_for(signatory).get(customer.get_absolute_url()).content.decode()
    assert "Price negotiation notes" in client_for(agent).get(customer.get_absolute_url()).content.decode()
