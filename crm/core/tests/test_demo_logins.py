import io

from django.core.management import call_command

from crm.core.demo import DEMO_PASSWORD, DEMO_USERS


def test_prints_the_address_and_every_demo_login():
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    output = out.getvalue()

    assert "http://127.0.0.1:8000/" in output
    for spec in DEMO_USERS:
        line = next(line for line in output.splitlines() if line.split()[:1] == [spec.username])
        assert DEMO_PASSWORD in line
        assert str(spec.role.label) in line
