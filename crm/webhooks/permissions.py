"""Webhooks are the admins' alone: no other role holds a permission on them (the Admin role
gets every permission of the apps that declare a permissions module, this one included)."""

ROLE_PERMISSIONS: dict[str, list[str]] = {}
