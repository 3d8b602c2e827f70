"""Start the embedded PostgreSQL (pgserver) when no DATABASE_URL is given.

The server keeps running after the process exits so that `runserver`'s reloader
and later commands share it; its data lives in a git-ignored folder.
"""

from pathlib import Path


def embedded_database_url(data_dir: Path) -> str:
    import pgserver

    server = pgserver.get_server(data_dir, cleanup_mode=None)
    return server.get_uri()
