import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from crm.core.roles import Role, declared_role_permissions


def permission_codes(group_name):
    group = Group.objects.get(name=group_name)
    return set(group.permissions.values_list("content_type__app_label", "codename").order_by().distinct())


def all_role_permissions():
    return {role.value: permission_codes(role.value) for role in Role}


@pytest.mark.django_db
def test_every_role_group_exists_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


@pytest.mark.django_db
def test_each_role_has_exactly_its_declared_permissions_after_migrate():
    wanted, _labels = declared_role_permissions()
    for role in Role:
        if role == Role.ADMIN:
            continue
        expected = {tuple(code.split(".", 1)) for code in wanted[role.value]}
        assert permission_codes(role.value) == expected, role


@pytest.mark.django_db
def test_sales_rep_cannot_see_all_customers_but_manager_can():
    assert ("customers", "view_all_customer") not in permission_codes(Role.SALES_REP)
    assert ("customers", "view_all_customer") in permission_codes(Role.SALES_MANAGER)
    assert ("customers", "reassign_customer") in permission_codes(Role.SALES_MANAGER)


@pytest.mark.django_db
def test_service_agent_may_not_see_contact_details_unmasked():
    codes = permission_codes(Role.SERVICE_AGENT)
    assert ("customers", "view_customer") in codes
    assert ("customers", "view_contact_details") not in codes
    assert ("customers", "change_customer") not in codes


@pytest.mark.django_db
def test_admin_role_can_manage_users_and_customers():
    codes = permission_codes(Role.ADMIN)
    assert {("auth", "change_user"), ("auth", "add_group"), ("customers", "delete_customer")} <= codes


@pytest.mark.django_db
def test_sync_roles_twice_leaves_the_same_permissions():
    call_command("sync_roles", verbosity=0)
    first = all_role_permissions()
    call_command("sync_roles", verbosity=0)
    assert all_role_permissions() == first
    assert Group.objects.filter(name__in=Role.values).count() == len(Role)


@pytest.mark.django_db
def test_sync_roles_restores_a_permission_removed_by_hand():
    rep_group = Group.objects.get(name=Role.SALES_REP)
    view_customer = Permission.objects.get(content_type__app_label="customers", codename="view_customer")
    rep_group.permissions.remove(view_customer)
    assert ("customers", "view_customer") not in permission_codes(Role.SALES_REP)

    call_command("sync_roles", verbosity=0)

    assert ("customers", "view_customer") in permission_codes(Role.SALES_REP)


@pytest.mark.django_db
def test_sync_roles_removes_a_permission_granted_by_hand():
    rep_group = Group.objects.get(name=Role.SALES_REP)
    reassign = Permission.objects.get(content_type__app_label="customers", codename="reassign_customer")
    rep_group.permissions.add(reassign)

    call_command("sync_roles", verbosity=0)

    assert ("customers", "reassign_customer") not in permission_codes(Role.SALES_REP)


@pytest.mark.django_db
def test_sync_roles_recreates_a_deleted_group(capsys):
    Group.objects.filter(name=Role.SIGNATORY).delete()

    call_command("sync_roles")

    assert Group.objects.filter(name=Role.SIGNATORY).exists()
    assert "Roles are in sync." in capsys.readouterr().out
