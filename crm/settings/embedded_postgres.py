"""The embedded PostgreSQL (pgserver) used when no DATABASE_URL is given.

The server keeps running after the process exits so that `runserver`'s reloader and
later commands share it; its data lives in a git-ignored folder. `make stop` stops it:
`python -m crm.settings.embedded_postgres stop`.
"""

import os
import subprocess
import sys
import warnings
from pathlib import Path

# `EMBEDDED_PGDATA` moves it (the tests use a scratch folder so as not to touch yours).
DATA_DIR = Path(os.environ.get("EMBEDDED_PGDATA") or Path(__file__).resolve().parent.parent.parent / ".pgdata")


def _pgserver():
    """pgserver, imported without platformdirs' warning that XDG_RUNTIME_DIR is unset
    (pgserver then keeps its lock file in /tmp/runtime-<uid>, which is what we want)."""
    from platformdirs.api import RuntimeDirWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeDirWarning)
        import pgserver
    return pgserver


def embedded_database_url(data_dir: Path = DATA_DIR) -> str:
    server = _pgserver().get_server(data_dir, cleanup_mode=None)
    return server.get_uri()


def stop(data_dir: Path = DATA_DIR) -> str:
    """Stop the embedded server if it runs; say what happened."""
    if not (data_dir / "postmaster.pid").exists():
        return "The embedded PostgreSQL is not running."
    pgserver = _pgserver()
    # PostgreSQL refuses to run as root; pgserver then runs it as its own `pgserver` user.
    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    except subprocess.CalledProcessError as error:
        raise SystemExit(
            f"Could not stop the embedded PostgreSQL in {data_dir}: pg_ctl exited {error.returncode}."
        ) from None
    return f"Stopped the embedded PostgreSQL in {data_dir}."


if __name__ == "__main__":
    if sys.argv[1:] != ["stop"]:
        sys.exit("usage: python -m crm.settings.embedded_postgres stop")
    print(stop())
