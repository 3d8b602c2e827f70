"""Reading real .eml files: exactly what the desk takes from each kind of message."""

from pathlib import Path

import pytest

from crm.core.mailparse import html_to_text
from service.mailparse import mail_parse, reply_message_id, reply_text

EML = Path(__file__).parent / "eml"
OURS = "crm.localhost"


def parsed(name):
    return mail_parse((EML / name).read_bytes())


def test_a_plain_reply_threads_by_the_subject_and_drops_the_quoted_original():
    mail = parsed("reply_plain.eml")
    assert mail.from_email == "li.wei@example.com"  # lower-cased: contacts are matched on it
    assert mail.from_name == "Li Wei"
    assert mail.message_id == "<CAF=reply-plain-0001@mail.example.com>"
    assert mail.ticket_number(OURS) == "TK-2026-000123"
    assert mail.reply == "Thanks, I tried that and it still does not start.\nThe display stays dark."
    assert "ten seconds" in mail.body
    assert mail.auto_reason == ""
    assert mail.attachments == ()


def test_a_reply_whose_subject_lost_the_tag_threads_by_our_message_id():
    mail = parsed("reply_subject_rewritten.eml")
    assert mail.subject == "AW: printer"
    assert mail.ticket_number(OURS) == "TK-2026-000123"
    # Another domain's Message-ID of the same shape is not ours: no thread.
    assert mail.ticket_number("other.example") == ""


def test_a_new_message_names_no_ticket():
    mail = parsed("new_plain.eml")
    assert mail.ticket_number(OURS) == ""
    assert mail.subject == "Invoice 4411 is missing the discount"
    assert mail.reply.startswith("Hello,\n\nthe invoice we received yesterday")


def test_an_html_only_message_becomes_its_visible_text():
    mail = parsed("html_only.eml")
    assert mail.reply == "It works again after the firmware update.\n\nThank you & regards,\nLi Wei"
    assert "alert" not in mail.body and "color" not in mail.body
    assert mail.ticket_number(OURS) == "TK-2026-000123"  # "RE:" in capitals


def test_gb18030_subject_sender_and_body_are_decoded_and_the_chinese_quote_dropped():
    mail = parsed("gb18030_chinese.eml")
    assert mail.subject == "回复：[TK-2026-000123] 打印机无法启动"
    assert mail.from_name == "王芳"
    assert mail.ticket_number(OURS) == "TK-2026-000123"
    assert mail.reply == "您好，\n\n打印机还是无法启动，屏幕一直是黑的。\n\n王芳"
    assert "电源键" in mail.body and "电源键" not in mail.reply


def test_attachments_come_with_their_names_types_and_sizes():
    mail = parsed("multipart_attachments.eml")
    assert [(a.filename, a.content_type, a.size) for a in mail.attachments] == [
        ("display.png", "image/png", 70),
        ("setup.exe", "application/octet-stream", 66),
        ("说明书.pdf", "application/pdf", 122889),
    ]
    assert mail.attachments[0].content.startswith(b"\x89PNG")
    assert mail.reply == "A photo of the display is attached."  # the plain alternative, not the HTML


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bounce.eml", "Auto-Submitted: auto-replied"),
        ("auto_reply.eml", "Auto-Submitted: auto-replied"),
    ],
)
def test_bounces_and_out_of_office_replies_are_recognised_as_automatic(name, reason):
    assert parsed(name).auto_reason == reason


def test_a_bounce_without_the_header_is_still_automatic():
    raw = (EML / "bounce.eml").read_bytes().replace(b"Auto-Submitted: auto-replied\n", b"")
    assert mail_parse(raw).auto_reason == "delivery report"


def test_people_are_not_mistaken_for_machines():
    for name in ("reply_plain.eml", "new_plain.eml", "html_only.eml", "gb18030_chinese.eml", "unknown_sender.eml"):
        assert parsed(name).auto_reason == "", name


def test_a_malformed_message_parses_to_empty_parts_instead_of_raising():
    mail = mail_parse(b"this is not\xff an e-mail at all")
    assert mail.from_email == "" and mail.message_id == "" and mail.ticket_number(OURS) == ""


def test_our_message_ids_thread_back():
    message_id = reply_message_id(ticket_number="TK-2026-000042", entry_id=9, token="ab12", domain=OURS)
    assert message_id == "<TK-2026-000042.r9.ab12@crm.localhost>"
    raw = (
        (EML / "new_plain.eml")
        .read_bytes()
        .replace(b"Message-ID:", b"In-Reply-To: " + message_id.encode() + b"\nMessage-ID:")
    )
    assert mail_parse(raw).ticket_number(OURS) == "TK-2026-000042"


def test_reply_text_keeps_an_unquoted_message_whole():
    assert reply_text("> only a quote") == "> only a quote"
    assert reply_text("Fine.\n\n-----Original Message-----\nFrom: us") == "Fine."
    assert html_to_text("<p>a</p><p>b&nbsp;c</p>") == "a\n\nb c"


def test_a_body_in_an_unknown_charset_is_read_as_gb18030():
    raw = (
        b"Message-ID: <lying-1@mail.example.cn>\nFrom: wang.fang@example.cn\nSubject: hi\n"
        b'Content-Type: text/plain; charset="x-unknown"\nContent-Transfer-Encoding: 8bit\n\n'
        + "打印机好了".encode("gb18030")
        + b"\n"
    )
    assert mail_parse(raw).reply == "打印机好了"
