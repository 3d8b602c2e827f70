"""The customer's side and the signed contract's documents in Chinese: the signing page,
its errors, the thank-you page, the verification result, the certificate of completion and
the evidence bundle's README — none with an English string of our catalog."""

import io
import re
import zipfile

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from contracts.tests.factories import default_approval_rules
from contracts.tests.test_signing_workflow import approved, send_link, sign_both, sign_company, signing_people
from crm.core.tests.test_i18n import CHINESE, untranslated_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rules(db):
    yield default_approval_rules()
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def people(rep, other_rep, manager, signatory, admin_user):
    return signing_people(rep, other_rep, manager, signatory, admin_user)


def chinese_page(response):
    content = response.content.decode()
    assert '<html lang="zh-hans">' in content
    assert not untranslated_in(content), untranslated_in(content)
    return content


def test_the_customer_signs_in_chinese_from_their_browsers_language(people, client):
    contract = approved(people)
    sign_company(contract, people.signatory)
    _link, token = send_link(contract, people.rep)

    client.get(reverse("contracts:customer_sign", args=[token]), **CHINESE)
    page = chinese_page(client.get(reverse("contracts:customer_sign_page"), **CHINESE))
    assert "签署并接受" in page and "我已阅读本合同，并代表客户接受本合同。" in page

    refused = chinese_page(client.post(reverse("contracts:customer_sign_page"), {"full_name": "李伟"}, **CHINESE))
    assert "请勾选复选框以接受合同。" in refused

    done = chinese_page(
        client.post(reverse("contracts:customer_sign_page"), {"full_name": "李伟", "accepted": "on"}, **CHINESE)
    )
    assert "李伟 已于" in done and f"接受合同 {contract.number}" in done

    gone = client.get(reverse("contracts:customer_sign", args=[token]), **CHINESE)
    assert gone.status_code == 410 and "该签署链接已被使用。" in chinese_page(gone)


def test_the_certificate_verification_and_evidence_are_in_chinese(people, client):
    contract = sign_both(approved(people), people)
    client.force_login(people.rep)

    certificate = chinese_page(client.get(reverse("contracts:contract_certificate", args=[contract.pk]), **CHINESE))
    assert "完成证书" in certificate and "签署人" in certificate
    code = re.search(r'data-testid="verification-code"[^>]*>([^<]+)<', certificate).group(1).strip()

    bundle = client.get(reverse("contracts:contract_evidence", args=[contract.pk]), **CHINESE)
    readme = zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content) if bundle.streaming else bundle.content))
    text = readme.read("README.txt").decode()
    assert f"合同 {contract.number} 的证据" in text and "openssl dgst -sha256 body.txt" in text
    assert not untranslated_in(text)

    client.logout()
    verdict = chinese_page(
        client.post(reverse("contracts:verify"), {"number": contract.number, "code": code}, **CHINESE)
    )
    assert "所有签名均验证通过" in verdict
