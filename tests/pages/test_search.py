"""综合查询: a case number opens its case, a two-character word finds it, filters narrow the list, the
export holds exactly the rows shown, and nobody finds a case they may not see."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.pages.test_pages import sign_in


def _rows(html: str) -> list[str]:
    body = re.search(r'data-testid="case-list">(.*?)</table>', html, re.S)
    return re.findall(r'<span class="muted">([^<]+-\d{4}-\d{4})</span>', body.group(1)) if body else []


def test_a_number_opens_its_case_and_a_two_character_word_finds_it(client, api):
    one = api.referral("gy_sthjj", "gy_qz_gov", title="红枫湖沿岸垃圾堆放")
    other = api.referral("gy_sthjj", "gy_by_gov", title="百花湖网箱养殖残留")
    sign_in(client, "gy_sthjj")
    home = client.get("/").text
    assert 'action="/search"' in home  # the box is in every page's header
    r = client.get("/search", params={"q": one["number"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/case/{one['id']}"
    found = client.get("/search", params={"q": "网箱"}).text  # two characters: matched without trigrams
    assert _rows(found) == [other["number"]]
    assert "共 1 件" in found


def test_filters_paging_and_the_export_of_what_is_shown(client, api):
    made = [api.referral("gy_sthjj", "gy_qz_gov", title=f"沿岸问题{i}") for i in range(3)]
    api.referral("gy_sthjj", "gy_by_gov", title="白云区问题")
    sign_in(client, "gy_sthjj")
    listed = client.get("/search", params={"workflow": "referral", "unit": "gy_qz_gov", "sort": "number"}).text
    assert _rows(listed) == [c["number"] for c in made]
    assert "已移送待签收" in listed  # the state's title, the filter's choices in Chinese
    export = client.get("/search.xlsx", params={"workflow": "referral", "unit": "gy_qz_gov", "sort": "number"})
    assert export.status_code == 200 and export.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(export.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["编号", "事项", "类型", "状态"]
    assert [v[0] for v in values[1:]] == [c["number"] for c in made]


def test_nobody_finds_a_case_they_may_not_see(client, api):
    hidden = api.referral("gy_sthjj", "gy_qz_gov", title="只有双方可见的事项")
    sign_in(client, "as_pb_gov")
    r = client.get("/search", params={"q": hidden["number"]}, follow_redirects=False)
    assert r.status_code == 200 and _rows(r.text) == []
    assert _rows(client.get("/search", params={"q": "双方可见"}).text) == []
