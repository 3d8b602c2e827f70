"""Real threads against real PostgreSQL, for the tests that prove a step happens once."""

import threading

from django.db import connection


def race(*calls, timeout=60):
    """Run each call in its own thread, all released at once; return what each gave or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def work(index, call):
        try:
            # Connected before the start: opening a connection takes milliseconds, long enough
            # for the other call to finish before this one has begun.
            connection.ensure_connection()
            barrier.wait(timeout=timeout)
            outcomes[index] = call()
        except Exception as error:  # every outcome is inspected by the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung: deadlock?"
    return outcomes
