"""A real HTTP server on 127.0.0.1 (a thread of the test process) that receives webhooks,
and endpoints registered through the service."""

import contextlib
import http.server
import json
import threading
import time
from dataclasses import dataclass, field

import pytest

from crm.webhooks.choices import WebhookEvent
from crm.webhooks.services import webhook_endpoint_create


@dataclass
class Received:
    path: str
    headers: object  # the request's headers, looked up by name whatever the case
    body: bytes
    at: float

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the server got, in order; `answers` are the status codes of the next requests
    (then 200), `response_headers` extra response headers."""

    url: str
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    response_headers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, event):
        return [request for request in self.requests if request.headers["X-CRM-Event"] == event]


@contextlib.contextmanager
def serving(state, tls=None):
    """Serve `state` on 127.0.0.1 (over TLS with the server context `tls`) until the block ends."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(Received(self.path, self.headers, body, time.monotonic()))
                code = state.answers.pop(0) if state.answers else 200
            answer = json.dumps({"received": code < 300}).encode()
            self.send_response(code)
            for name, value in state.response_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.port = server.server_address[1]
    state.url = f"{'https' if tls else 'http'}://127.0.0.1:{state.port}/hooks/crm"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def receiver():
    with serving(Receiver(url="")) as state:
        yield state


@pytest.fixture
def endpoint(admin_user, receiver):
    """An active endpoint on the local server, subscribed to every event."""
    return webhook_endpoint_create(actor=admin_user, name="ERP bridge", url=receiver.url, events=WebhookEvent.values)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and run what it left for after its commit (events, the queue's tasks,
    which run inline in the test settings)."""

    def call(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return call
