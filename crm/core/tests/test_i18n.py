"""Two languages: the catalog is complete, every page renders in both, the choice is kept.

A page in Chinese must not show an English string of our catalog: the test renders every
page of the URL matrix (and the admin of our models) with `Accept-Language: zh-CN` and looks
for each catalog msgid in the answer."""

import html
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode

from crm.core.i18n import catalog_problems, read_catalog
from crm.core.models import AuditEvent, UserPreference
from crm.core.tests.factories import PASSWORD
from crm.core.tests.test_permission_matrix import EXPECTED, OK, ROLE_FIXTURES, URL_ARGS, URL_KWARGS, URL_QUERY
from crm.core.tests.test_permission_matrix import objects as objects  # noqa: F401 (the fixture)

CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]|%%|\{\w+\}|<[^>]+>")


@pytest.fixture(autouse=True)
def back_to_english():
    """A request in Chinese leaves Chinese active in this thread; later tests expect English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def english_fragments():
    """Pieces of English that a page in Chinese must not show: each msgid's literal text
    between its placeholders, when it has at least two words (a lone word like "IP" or
    "SKU" stays the same in Chinese, and single words show up in data)."""
    fragments = set()
    for entry in read_catalog(CATALOG):
        if entry.translations and entry.translations[0] == entry.msgid:
            continue
        for piece in PLACEHOLDER.split(entry.msgid):
            piece = piece.strip(" .,:;()·–—…\n")
            if " " in piece and len(piece) >= 8:
                fragments.add(piece)
    return sorted(fragments)


FRAGMENTS = english_fragments()


def untranslated_in(content: str) -> list[str]:
    return [fragment for fragment in FRAGMENTS if fragment in content or html.escape(fragment) in content]


# Pages that are not HTML: the health report, CSV exports, PDFs (a quote's text is checked
# in both languages with pdftotext in orders/tests/test_quote_pdf.py), the API's schema
# (JSON) and its interactive docs (Swagger UI's own words are English).
NOT_HTML = {
    "health",
    "api:schema",
    "api:docs",
    "customers:customer_export",
    "dashboard:chart_export",
    "orders:order_export",
    "orders:quote_pdf",
    "orders:quote_public_pdf",
}


def html_pages():
    """(url name, role) for every page of the matrix that some role opens with 200."""
    preferred = ["manager", "admin", "rep", "signatory", "anonymous"]
    pages = []
    for url_name, statuses in sorted(EXPECTED.items()):
        role = next((role for role in preferred if statuses.get(role) == OK), None)
        if role is not None and url_name not in NOT_HTML:
            pages.append((url_name, role))
    return pages


def matrix_get(request, client, objects, url_name, role, headers):
    args = [objects[arg].pk if isinstance(arg, str) else arg for arg in URL_ARGS.get(url_name, [])]
    url = reverse(url_name, args=args, kwargs=URL_KWARGS.get(url_name))
    query = {param: objects[name].pk for param, name in URL_QUERY.get(url_name, {}).items()}
    if query:
        url = f"{url}?{urlencode(query)}"
    if role != "anonymous":
        client.force_login(request.getfixturevalue(ROLE_FIXTURES.get(role, role)))
    return client.get(url, **headers)


def test_the_check_finds_pages_and_fragments():
    """Guard for the test itself: it would pass vacuously without pages or fragments."""
    assert len(html_pages()) > 30
    assert "Waiting for your decision" in FRAGMENTS and "Submit for approval" in FRAGMENTS


@pytest.mark.parametrize(("url_name", "role"), html_pages())
def test_every_page_renders_in_chinese_without_an_english_string(request, client, objects, url_name, role):
    response = matrix_get(request, client, objects, url_name, role, CHINESE)

    assert response.status_code == OK
    content = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    if "<html" in content:
        assert re.search(r'<html lang="zh-hans"[ >]', content)
    assert not untranslated_in(content), f"{url_name} in Chinese shows English: {untranslated_in(content)}"


@pytest.mark.parametrize(("url_name", "role"), html_pages())
def test_every_page_renders_in_english(request, client, objects, url_name, role):
    response = matrix_get(request, client, objects, url_name, role, ENGLISH)

    assert response.status_code == OK
    assert response["Content-Language"] == "en"
    assert not re.search(r"[\u4e00-\u9fff]", response.content.decode().replace("简体中文", "")), url_name


def our_admin_models():
    ours = {"core", "customers", "contracts", "orders", "webhooks"}
    return sorted(
        f"{model._meta.app_label}_{model._meta.model_name}"
        for model in admin.site._registry
        if model._meta.app_label in ours
    )


@pytest.mark.parametrize("model", our_admin_models())
def test_the_admin_of_our_models_is_in_chinese(admin_client, model):
    for url in [reverse(f"admin:{model}_changelist"), reverse("admin:index")]:
        response = admin_client.get(url, **CHINESE)

        assert response.status_code == OK
        content = response.content.decode()
        assert not untranslated_in(content), f"{url} shows English: {untranslated_in(content)}"


def test_the_catalog_is_complete_and_every_string_is_extracted():
    assert catalog_problems(settings.BASE_DIR) == []


# --- the check itself, on a tiny project of its own ------------------------------------------

PO_HEADER = (
    'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
)


def tiny_project(tmp_path, code, entries):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "strings.py").write_text(
        "from django.utils.translation import gettext as _\n\n" + code, encoding="utf-8"
    )
    po = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(PO_HEADER + entries, encoding="utf-8")
    return tmp_path


def test_check_translations_passes_when_everything_is_extracted_and_translated(tmp_path, capsys):
    root = tiny_project(tmp_path, 'GREETING = _("Good morning")\n', 'msgid "Good morning"\nmsgstr "早上好"\n')

    call_command("check_translations", root=str(root))

    assert "1 messages, all translated" in capsys.readouterr().out


def test_check_translations_fails_on_a_string_not_extracted(tmp_path, capsys):
    root = tiny_project(
        tmp_path,
        'GREETING = _("Good morning")\nFAREWELL = _("See you tomorrow")\n',
        'msgid "Good morning"\nmsgstr "早上好"\n',
    )
    before = (root / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")

    with pytest.raises(CommandError, match="1 translation problem"):
        call_command("check_translations", root=str(root))

    assert "not extracted: 'See you tomorrow'" in capsys.readouterr().err
    assert (root / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8") == before


def test_check_translations_fails_on_an_untranslated_or_fuzzy_entry(tmp_path, capsys):
    root = tiny_project(
        tmp_path,
        'GREETING = _("Good morning")\nFAREWELL = _("See you tomorrow")\n',
        'msgid "Good morning"\nmsgstr ""\n\n#, fuzzy\nmsgid "See you tomorrow"\nmsgstr "明天见"\n',
    )

    with pytest.raises(CommandError):
        call_command("check_translations", root=str(root))

    err = capsys.readouterr().err
    assert "1 untranslated" in err and "1 fuzzy" in err
    assert "not translated: 'Good morning'" in err and "not translated: 'See you tomorrow'" in err


def test_check_translations_fails_on_a_placeholder_the_translation_lost(tmp_path, capsys):
    root = tiny_project(
        tmp_path,
        'GREETING = _("Good morning, %(name)s") % {"name": "Li"}\n',
        '#, python-format\nmsgid "Good morning, %(name)s"\nmsgstr "早上好"\n',
    )

    with pytest.raises(CommandError):
        call_command("check_translations", root=str(root))

    assert "msgstr" in capsys.readouterr().err


def test_check_translations_fails_on_an_entry_no_code_uses(tmp_path, capsys):
    root = tiny_project(
        tmp_path,
        'GREETING = _("Good morning")\n',
        'msgid "Good morning"\nmsgstr "早上好"\n\nmsgid "Good night"\nmsgstr "晚安"\n',
    )

    with pytest.raises(CommandError):
        call_command("check_translations", root=str(root))

    assert "no longer in the code: 'Good night'" in capsys.readouterr().err


def test_the_compiled_catalog_is_used():
    assert shutil.which("msgfmt"), "gettext's msgfmt compiles the catalogs (make messages)"
    with translation.override("zh-hans"):
        assert translation.gettext("Submit for approval") == "提交审批"
        assert translation.gettext("Customers") == "客户"


# --- the choice, kept per user --------------------------------------------------------------


def switch(client, language, next_url="/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_a_user_switches_to_chinese_and_keeps_it_on_every_page_and_the_next_login(client, rep):
    client.force_login(rep)
    assert "Customers" in client.get(reverse("customers:customer_list")).content.decode()

    response = switch(client, "zh-hans", reverse("customers:customer_list"))

    assert response.status_code == 302 and response["Location"] == reverse("customers:customer_list")
    assert UserPreference.objects.get(user=rep).language == "zh-hans"
    event = AuditEvent.objects.get(action="userpreference.updated")
    assert (event.actor, event.changes) == (rep, {"language": ["", "zh-hans"]})
    # The browser says English; the user's choice wins, on every page.
    page = client.get(reverse("customers:customer_list"), **ENGLISH).content.decode()
    assert '<html lang="zh-hans">' in page and "新建客户" in page

    # Another browser, no cookie: the choice comes with the login.
    client.logout()
    client.cookies.clear()
    assert client.login(username=rep.username, password=PASSWORD)
    page = client.get(reverse("dashboard:home"), **ENGLISH).content.decode()
    assert '<html lang="zh-hans">' in page and "工作台" in page

    switch(client, "en")
    page = client.get(reverse("dashboard:home"), **CHINESE).content.decode()
    assert '<html lang="en">' in page and "Dashboard" in page
    assert UserPreference.objects.get(user=rep).language == "en"


def test_choosing_the_same_language_again_records_nothing(client, rep):
    client.force_login(rep)
    switch(client, "zh-hans")
    events = AuditEvent.objects.count()

    switch(client, "zh-hans")

    assert AuditEvent.objects.count() == events


def test_an_unknown_language_changes_nothing(client, rep):
    client.force_login(rep)

    response = switch(client, "xx-klingon")

    assert response.status_code == 302
    assert not UserPreference.objects.filter(user=rep).exists()
    assert '<html lang="en">' in client.get(reverse("dashboard:home")).content.decode()


def test_the_switcher_is_a_post_form_on_every_page_without_inline_script(client, rep):
    for page_url in [reverse("login"), reverse("contracts:verify")]:
        content = client.get(page_url).content.decode()
        assert f'action="{reverse("set_language")}"' in content and 'value="zh-hans"' in content
        assert "简体中文" in content and "English" in content
        assert not re.search(r"<script(?![^>]*\bsrc=)", content)


def test_the_customers_pages_follow_the_browser_and_the_switcher(client):
    """The customer (no account) gets the verification page in the browser's language, and
    the switcher's cookie overrides it."""
    assert '<html lang="zh-hans">' in client.get(reverse("contracts:verify"), **CHINESE).content.decode()
    assert '<html lang="en">' in client.get(reverse("contracts:verify"), **ENGLISH).content.decode()

    switch(client, "zh-hans", reverse("contracts:verify"))

    page = client.get(reverse("contracts:verify"), **ENGLISH).content.decode()
    assert '<html lang="zh-hans">' in page and "验证已签署的合同" in page


def test_the_switcher_sends_nobody_to_another_site(client):
    response = switch(client, "zh-hans", "https://evil.example.com/")

    assert response.status_code == 302 and "evil.example.com" not in response["Location"]


def test_money_is_grouped_by_thousands_in_both_languages(client, rep):
    from contracts.tests.factories import ContractFactory
    from customers.tests.factories import CustomerFactory

    contract = ContractFactory(owner=rep, customer=CustomerFactory(owner=rep), amount="1200000.00")
    client.force_login(rep)
    for headers in (ENGLISH, CHINESE):
        page = client.get(contract.get_absolute_url(), **headers).content.decode()
        assert re.search(r'data-testid="contract-amount">1,200,000\.00 CNY<', page), headers


def test_the_demo_staff_work_in_their_own_language(db):
    from crm.core.demo import demo_users_ensure

    users = demo_users_ensure()

    languages = dict(UserPreference.objects.values_list("user__username", "language"))
    assert languages["rep1"] == languages["manager"] == "zh-hans"
    assert languages["rep2"] == languages["admin"] == "en"
    assert set(languages) == set(users)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "角色已同步。"),
        ({"LANG": "C.UTF-8"}, "Roles are in sync."),
        ({}, "Roles are in sync."),
    ],
)
def test_commands_speak_the_operators_language(db, monkeypatch, environment, expected):
    import io

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()

    call_command("sync_roles", stdout=out)

    assert expected in out.getvalue()
