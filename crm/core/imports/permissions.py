"""Who may use the import pages: whoever may create the records of a kind (each importer
names that permission) starts runs; the Admin role also keeps original owners and dates."""

from crm.core.roles import Role

_IMPORTING = [
    "imports.view_importrun",
    "imports.add_importrun",
    "imports.view_importpreset",
    "imports.add_importpreset",
    "imports.change_importpreset",
]

ROLE_PERMISSIONS = {
    Role.SALES_REP: _IMPORTING,
    Role.SALES_MANAGER: _IMPORTING,
}
