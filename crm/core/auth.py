"""Login protection: django-axes refuses a login while its username and address are locked out."""

from axes.backends import AxesStandaloneBackend


class LoginAttemptBackend(AxesStandaloneBackend):
    """django-axes' check, for logins that come with a request.

    A login through a web form always carries its request, so every attempt an attacker
    can make over HTTP is counted and refused when locked. `authenticate()` called from
    code without a request (the test client's `login()`, a shell) has no client address
    to count against; axes would raise there, so this backend steps aside and the next
    backend decides.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
