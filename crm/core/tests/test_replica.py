"""The read replica: list pages read from a real streaming standby of the test server, and a
user's own write is visible to them at once even while the standby lags.

The replica is made with `pg_basebackup -R -X stream` from the server the tests run on and
started on a free port as the `postgres` OS user (PostgreSQL refuses to run as root). Replay
on it is paused with `pg_wal_replay_pause()` to make the lag deterministic: a row written on
the primary after the pause exists only there, so a page that does not show it was read from
the replica, and a page that does show it was read from the primary.

Without a replica configured the router is inert; the tests at the bottom check that too.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse

from crm.core.db_router import PRIMARY, REPLICA, STICKY_COOKIE, ReplicaRouter
from customers import services
from customers.models import Customer

WITH_REPLICA = pytest.mark.django_db(transaction=True, databases=[PRIMARY, REPLICA])
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


# Without a replica (the usual test run) the router is inert.


def test_without_a_replica_the_router_says_nothing(db, rep):
    router = ReplicaRouter()
    assert router.db_for_read(Customer) is None
    assert router.db_for_write(Customer) == PRIMARY


def test_without_a_replica_a_write_sets_no_cookie(client_for, rep):
    response = client_for(rep).post(reverse("customers:customer_create"), {"name": "No Replica Ltd"})
    assert STICKY_COOKIE not in response.cookies


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str, check: bool = True, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        input=input_text,
        capture_output=True,
        text=True,
        check=check,
        timeout=600,
    )


def _skip_reason(settings_dict) -> str | None:
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "starting a replica needs root (to run PostgreSQL as the postgres OS user with runuser)"
    for binary in ("pg_basebackup", "pg_ctl"):
        if not (PG_BIN / binary).exists():
            return f"{PG_BIN / binary} is not installed (PostgreSQL 15 server binaries)"
    if settings_dict["HOST"] not in ("127.0.0.1", "localhost"):
        return "the test server is not local: a replica can only be started beside a local server"
    return None


def _replica_query(port: int, database: str, sql: str):
    connection = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=database)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0] if cursor.description else None
    finally:
        connection.close()


def _wait_for(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except psycopg2.OperationalError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def replica_server(django_db_setup):
    """A streaming replica of the test server on a free port, for this module's tests;
    stopped and removed afterwards: the `replica` alias meanwhile. Yields a helper that runs SQL
    on the test database there."""
    primary = connections[PRIMARY].settings_dict
    reason = _skip_reason(primary)
    if reason:
        pytest.skip(reason)
    data = Path(tempfile.mkdtemp(prefix="crm-replica-", dir="/tmp"))
    shutil.chown(data, user="postgres", group="postgres")
    data.chmod(0o700)
    port = _free_port()
    try:
        backup = _as_postgres(
            str(PG_BIN / "pg_basebackup"),
            *("-h", str(primary["HOST"]), "-p", str(primary["PORT"] or 5432), "-U", primary["USER"] or "postgres"),
            *("-D", str(data), "-R", "-X", "stream", "-c", "fast"),
            check=False,
        )
        if backup.returncode != 0:
            if "replication connection" in backup.stderr or "pg_hba.conf" in backup.stderr:
                pytest.skip(
                    "the server refuses replication connections: add "
                    "'host replication all 127.0.0.1/32 trust' to pg_hba.conf and reload "
                    f"({backup.stderr.strip().splitlines()[-1]})"
                )
            raise AssertionError(f"pg_basebackup failed: {backup.stderr}")
        # Debian keeps the server's configuration outside the data folder: the copy gets its own.
        for name, text in (
            ("postgresql.conf", "hot_standby = on\n"),
            ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"),
        ):
            _as_postgres("sh", "-c", f"cat > {data / name}", input_text=text)
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data}"
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-o", options, "-w", "start")
        database = primary["NAME"]

        def query(sql):
            return _replica_query(port, database, sql)

        _wait_for(lambda: query("SELECT pg_is_in_recovery()"), "the replica to accept connections")
        # The alias exists before the tests' database set-up, which then lets them use it; as a
        # test mirror of the primary, the tests' flush leaves it alone (a standby is read-only).
        connections.settings[REPLICA] = {**primary, "PORT": str(port), "TEST": {**primary["TEST"], "MIRROR": PRIMARY}}
        yield query
    finally:
        if REPLICA in connections.settings:
            connections[REPLICA].close()
            del connections[REPLICA]
            del connections.settings[REPLICA]
        if (data / "postmaster.pid").exists():
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def replica(replica_server):
    """The running replica, replaying and caught up with the primary; yields a helper that
    runs SQL on it. (Catching up matters: the previous test's flush recreated the roles'
    groups on the primary, and the fixtures read them through the router from the replica.)"""
    if replica_server("SELECT pg_is_wal_replay_paused()"):
        replica_server("SELECT pg_wal_replay_resume()")
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        primary_position = cursor.fetchone()[0]
    _wait_for(
        lambda: replica_server(f"SELECT pg_last_wal_replay_lsn() >= '{primary_position}'::pg_lsn"),
        "the replica to catch up with the primary",
    )
    yield replica_server
    connections[REPLICA].close()


def _list_names(client) -> str:
    response = client.get(reverse("customers:customer_list"))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.slow
@WITH_REPLICA
def test_lists_read_from_the_replica_and_a_writer_sees_their_own_write_at_once(replica, rep, other_rep):
    services.customer_create(actor=rep, name="Replicated Before Pause Ltd")
    replayed = "SELECT count(*) FROM customers_customer WHERE name = 'Replicated Before Pause Ltd'"
    _wait_for(lambda: replica(replayed) == 1, "the replica to replay the first customer")
    assert replica("SELECT pg_is_in_recovery()") is True
    with connections[REPLICA].cursor() as cursor:  # the alias really is the standby
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True

    replica("SELECT pg_wal_replay_pause()")
    _wait_for(lambda: replica("SELECT pg_get_wal_replay_pause_state()") == "paused", "replay to pause")
    # Written on the primary after the pause: there, and not (yet) on the replica.
    services.customer_create(actor=rep, name="Only On The Primary Ltd")

    reader = Client()
    reader.force_login(rep)
    page = _list_names(reader)
    assert "Replicated Before Pause Ltd" in page
    assert "Only On The Primary Ltd" not in page  # so the list was read from the replica

    # The rep creates a customer through the form: the next pages read the primary.
    writer = Client()
    writer.force_login(rep)
    response = writer.post(reverse("customers:customer_create"), {"name": "Written By The Rep Ltd", "kind": "company",
                                                                   "status": "lead", "industry": "manufacturing",
                                                                   "tier": "standard"})  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert STICKY_COOKIE in response.cookies
    detail = writer.get(response["Location"])
    assert detail.status_code == 200 and "Written By The Rep Ltd" in detail.content.decode()
    page = _list_names(writer)
    assert "Written By The Rep Ltd" in page and "Only On The Primary Ltd" in page

    # Another browser, without a recent write, still reads the paused replica.
    assert "Written By The Rep Ltd" not in _list_names(reader)

    replica("SELECT pg_wal_replay_resume()")
    _wait_for(lambda: "Written By The Rep Ltd" in _list_names(reader), "the replica to catch up")


@pytest.mark.slow
@WITH_REPLICA
def test_transactions_and_locks_go_to_the_primary_while_the_replica_is_configured(replica, rep):
    customer = services.customer_create(actor=rep, name="Locked Row Ltd")
    router = ReplicaRouter()
    assert router.db_for_read(Customer) == REPLICA
    with transaction.atomic():
        assert router.db_for_read(Customer) == PRIMARY
        assert Customer.objects.select_for_update().get(pk=customer.pk).name == "Locked Row Ltd"
    from django.contrib.sessions.models import Session

    assert router.db_for_read(Session) == PRIMARY
    assert router.db_for_write(Customer) == PRIMARY
    assert router.allow_migrate(REPLICA, "customers") is False and router.allow_migrate(PRIMARY, "customers")
