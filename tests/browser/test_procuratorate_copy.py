"""The procuratorate's copy of a transfer, in the browser: once SAMR's liaison sends the transfer,
the procuratorate's liaison finds the notice in the header, follows it to the case (which their
agency now observes) and opens the copied 移送书 from the case's documents."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import User
from tests.helpers import transferred
from web.db import db


def test_the_procuratorate_liaison_gets_the_notice_and_opens_the_copied_letter(app, person):
    liaison = person("procuratorate_liaison")
    assert liaison.locator("header .unread-count").count() == 0
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = transferred(session, users, "抄送检察院测试案")
        number = case.number

    liaison.reload()
    assert liaison.locator("header .unread-count").inner_text() == "1"
    liaison.click("header a.notifications-link")
    note = liaison.locator("li.notification.unread")
    assert note.count() == 1 and number in note.inner_text() and "移送书已抄送本单位" in note.inner_text()
    note.locator("a").first.click()
    liaison.wait_for_url(re.compile(r".*/cases/\d+$"))
    assert number in liaison.locator("h1").inner_text()
    assert "抄送监督" in liaison.locator("dl.facts").inner_text()
    assert liaison.locator('tr[data-event="observer_joined"]').count() == 1

    letter = liaison.locator("table.documents tbody tr").filter(has_text="涉嫌犯罪案件移送书")
    assert letter.count() == 1
    letter.locator("a").first.click()
    liaison.wait_for_url(re.compile(r".*/documents/\d+$"))
    body = liaison.locator("body").inner_text()
    assert "涉嫌犯罪案件移送书" in body and "人民检察院" in body
    assert liaison.locator("header .unread-count").count() == 0
