"""A delivery connects to the address its check resolved, never to what the name answers a
moment later (DNS rebinding), and still speaks to the host by name: the Host header, and
for https the TLS server name and the certificate's hostname."""

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from crm.webhooks.models import WebhookDelivery
from crm.webhooks.services import webhook_endpoint_create
from service.tests.factories import ticket_for

from .conftest import Receiver, serving
from .test_delivery import signed_by

pytestmark = pytest.mark.django_db

HOST = "hooks.example.test"


@pytest.fixture
def rebinding_dns(monkeypatch):
    """`HOST` resolves to 127.0.0.1 the first time it is looked up and to 127.0.0.2 (where
    nobody listens) every time after; returns the list of its lookups."""
    import socket

    real = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != HOST:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return real("127.0.0.1" if len(lookups) == 1 else "127.0.0.2", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def certificate_files(tmp_path, names):
    """A CA (its PEM file, to trust) and a server certificate it issued for `names`,
    with its key (one PEM file, for the server)."""
    now = datetime.datetime.now(datetime.UTC)

    def issued(subject, key, issuer, issuer_key, *, ca):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = issued("Test webhook CA", ca_key, "Test webhook CA", ca_key, ca=True)
    server = issued(names[0], server_key, "Test webhook CA", ca_key, ca=False)
    ca_file, server_file = tmp_path / "ca.pem", tmp_path / "server.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    server_file.write_bytes(
        server.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_file, server_file


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """A receiver over https with a certificate for `HOST`, issued by a CA the process trusts
    (SSL_CERT_FILE, which OpenSSL reads when a default context loads its trust store); the
    server names the clients asked for (SNI) are in `server_names`."""
    ca_file, server_file = certificate_files(tmp_path, [HOST])
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_file)
    state = Receiver(url="")
    state.server_names = []
    context.sni_callback = lambda _socket, name, _context: state.server_names.append(name)
    with serving(state, tls=context):
        yield state


def test_the_delivery_connects_to_the_address_it_checked_whatever_a_second_lookup_answers(
    run, receiver, rebinding_dns, admin_user, customer
):
    endpoint = webhook_endpoint_create(
        actor=admin_user, name="ERP", url=f"http://{HOST}:{receiver.port}/hooks/crm", events=["ticket.created"]
    )

    run(ticket_for, customer=customer)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error) == ("delivered", 1, "")
    assert rebinding_dns == [HOST], "the name is looked up once per attempt, by the check"
    (request,) = receiver.requests
    assert request.headers["Host"] == f"{HOST}:{receiver.port}"
    assert request.path == "/hooks/crm" and signed_by(request, endpoint.secret)


def test_an_https_delivery_to_a_checked_address_verifies_the_certificate_for_the_host_name(
    run, tls_receiver, rebinding_dns, admin_user, customer
):
    endpoint = webhook_endpoint_create(
        actor=admin_user, name="ERP", url=f"https://{HOST}:{tls_receiver.port}/hooks/crm", events=["ticket.created"]
    )

    run(ticket_for, customer=customer)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.error) == ("delivered", "")
    assert tls_receiver.server_names == [HOST], "the TLS server name is the host's, not the address's"
    (request,) = tls_receiver.requests
    assert request.headers["Host"] == f"{HOST}:{tls_receiver.port}" and signed_by(request, endpoint.secret)


def test_a_certificate_for_another_name_is_refused_at_the_checked_address(
    run, tls_receiver, admin_user, customer, monkeypatch
):
    import socket

    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *args, **kwargs: real("127.0.0.1" if host == "crm.example.test" else host, *args, **kwargs),
    )
    webhook_endpoint_create(
        actor=admin_user,
        name="Impostor",
        url=f"https://crm.example.test:{tls_receiver.port}/hooks/crm",
        events=["ticket.created"],
    )

    run(ticket_for, customer=customer)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.response_code is None
    assert "certificate verify failed" in delivery.error and "crm.example.test" in delivery.error
    assert tls_receiver.requests == []
