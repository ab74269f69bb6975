"""Every deadline of the newest version of every packaged definition cites where it comes from (issue 14):
a law or the mechanism's own document, its year, and the 条/款/项 (or the part of the document) — or says that
the figure is the mechanism's own choice. New cases start on those versions, and the case page shows the 依据."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from db.repositories import definitions as defs_repo
from engine.loader import load_definition_file
from tests.api.conftest import accounts, app, client, settings  # noqa: F401
from tests.pages.test_pages import sign_in
from tests.workflows.flow import Flow, member
from workflows import ROOT

# A citation names where in its text the rule sits: 第N条/款/项, a 段 or 节 of a report, a 部分 of a plan, or §.
PLACE = re.compile(r"[条款项段节§]|部分")
OWN_CHOICE = "本机制设定（无上位规定）"


def newest_versions():
    newest: dict[tuple[str, str], tuple[int, object]] = {}
    for path in sorted(ROOT.glob("*/definitions/*.v*.yaml")):
        name, version = re.fullmatch(r"(.+)\.v(\d+)\.yaml", path.name).groups()
        key = (path.parent.parent.name, name)
        if int(version) > newest.get(key, (0, None))[0]:
            newest[key] = (int(version), path)
    return {key: path for key, (_, path) in sorted(newest.items())}


NEWEST = newest_versions()


@pytest.mark.parametrize("key", list(NEWEST), ids=["/".join(k) for k in NEWEST])
def test_every_deadline_of_the_newest_version_cites_its_source(key):
    d = load_definition_file(NEWEST[key])
    for name, spec in d.deadlines.items():
        src = spec.source
        assert src is not None, f"{NEWEST[key].name}: deadline {name!r} has no source"
        assert src.law.strip() and 1949 < src.year < 2100, f"{name}: {src}"
        assert PLACE.search(src.article) or OWN_CHOICE in src.note, \
            f"{NEWEST[key].name}: deadline {name!r} names no 条/款/项 and is not marked as the mechanism's own choice"
        # A figure the text does not set is never passed off as the text's: the note says whose choice it is.
        if OWN_CHOICE in src.note:
            assert src.article, f"{name}: say which part of the document the procedure comes from"


def test_the_packaged_definitions_cite_the_seeds_as_they_title_themselves():
    texts = {p.read_text(encoding="utf-8") for p in NEWEST.values()}
    laws = {load_definition_file(p).deadlines[n].source.law for p in NEWEST.values()
            for n in load_definition_file(p).deadlines}
    seeds = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT.parent.parent / "shared" / "seeds").glob("*.txt")) \
        if (ROOT.parent.parent / "shared" / "seeds").is_dir() else ""
    assert "贵阳贵安—安顺市“两湖”流域水资源环境保护治理联动机制" in laws
    assert "崇川区集中式饮用水水源地环境保护专项行动方案" in laws
    assert "湘潭市加强长江沿线饮用水水源地安全保护工作方案" in laws
    assert "大兴安岭地区水污染防治工作方案" in laws
    assert any("本机制设定（无上位规定）" in t for t in texts)
    for law in laws - {"人民检察院公益诉讼办案规则", "最高人民法院、最高人民检察院关于检察公益诉讼案件适用法律若干问题的解释",
                       "湖州市推进水源地督查问题整改工作报道"}:
        assert not seeds or law in seeds, f"{law} is not how any seed titles itself"


def test_new_cases_start_on_the_newest_version_and_the_case_page_shows_the_source(cases, client):  # noqa: F811
    f = Flow.start(cases, "referral", member("gy_sthjj"), "红枫湖沿岸生活垃圾堆放",
                   problem="清镇市红枫湖沿岸发现生活垃圾堆放", location="清镇市红枫镇")
    f.fire("refer", member("gy_sthjj"), "referred", receiver="gy_qz_gov", reason="属地管理")
    with cases.db.read() as conn:
        newest = defs_repo.find(conn, "two_lakes", "referral", None)
    assert f.case.definition_id == newest.id and newest.version == 4
    sign_in(client, "office")
    page = client.get(f"/case/{f.case.id}").text
    table = re.search(r'<table data-testid="deadlines">.*?</table>', page, re.S).group(0)
    row = next(r for r in table.split("<tr>") if "3个工作日内签收" in r)
    assert ('<td data-testid="deadline-source">《贵阳贵安—安顺市“两湖”流域水资源环境保护治理联动机制》（2024）'
            "第四部分第（二）项：该项规定移送相关属地政府、职能部门处理，未定签收期限；3个工作日为本机制设定（无上位规定）</td>"
            ) in row
    body = client.get(f"/cases/{f.case.id}").json()
    sources = {dl["name"]: dl["source"] for dl in body["deadlines"]}
    assert sources["acceptance"].startswith("《贵阳贵安—安顺市“两湖”流域水资源环境保护治理联动机制》（2024）第四部分第（二）项")


def without_sources(path):
    d = load_definition_file(path)
    return replace(d, version=0, content_hash="", source="",
                   deadlines={n: replace(s, source=None) for n, s in d.deadlines.items()})


def _sourced_only(path) -> bool:
    """The version's own note (第N版（issue 14）) says it only adds sources."""
    n = re.search(r"\.v(\d+)\.yaml$", path.name).group(1)
    return bool(re.search(rf"第{n}版（issue 14）：[^\n]*只是每个期限以 `source:` 注明依据", path.read_text("utf-8")))


SOURCED_ONLY = [key for key, path in NEWEST.items() if _sourced_only(path)]


@pytest.mark.parametrize("key", SOURCED_ONLY, ids=["/".join(k) for k in SOURCED_ONLY])
def test_a_version_that_adds_sources_changes_nothing_else(key):
    newest = NEWEST[key]
    version = int(re.search(r"\.v(\d+)\.yaml$", newest.name).group(1))
    before = newest.with_name(newest.name.replace(f".v{version}.", f".v{version - 1}."))
    assert without_sources(newest) == without_sources(before)
    assert load_definition_file(newest).content_hash != load_definition_file(before).content_hash
