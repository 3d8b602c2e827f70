"""Who may read the models' page (the figures are over every customer, so the team's)."""

from crm.core.roles import Role

ROLE_PERMISSIONS = {
    Role.SALES_MANAGER: ["insight.view_modelversion"],
}
