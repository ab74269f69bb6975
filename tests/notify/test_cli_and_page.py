"""Configuring channels: `gongzhi channel …` and the office page 通知渠道, on both databases."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from db.repositories import channels as repo
from db.settings import get_settings
from tests.notify.conftest import DING_SECRET, add_channel, make_settings
from tests.pages.conftest import PASSWORD


def url_of(db) -> str:
    return db.url.render_as_string(hide_password=False)


@pytest.fixture
def env(monkeypatch):
    """Settings the CLI reads from the environment, as in production."""
    monkeypatch.setenv("GONGZHI_PUBLIC_BASE_URL", "https://gongzhi.example.gov.cn")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_channel_commands_add_list_disable_and_test(db, receiver, env):
    runner = CliRunner()
    base = ["--database-url", url_of(db)]
    r = runner.invoke(cli, ["channel", "add", "--unit", "gy_sthjj", "--kind", "dingtalk", "--target",
                            receiver.url("/dingtalk/cli", "access_token=0123456789abcdef"), "--secret", DING_SECRET, *base])
    assert r.exit_code == 0, r.output
    ding = int(re.search(r"channel (\d+)", r.output).group(1))
    r = runner.invoke(cli, ["channel", "add", "--user", "gy_sthjj", "--kind", "email", "--target", "liaison@", *base])
    assert r.exit_code == 2 and "邮箱地址格式不正确" in r.output
    r = runner.invoke(cli, ["channel", "add", "--unit", "no_such_unit", "--kind", "webhook", "--target",
                            "https://example.cn/hook", *base])
    assert r.exit_code == 2 and "没有单位" in r.output
    r = runner.invoke(cli, ["channel", "add", "--kind", "webhook", "--target", "https://example.cn/hook", *base])
    assert r.exit_code != 0  # neither --unit nor --user

    r = runner.invoke(cli, ["channel", "list", "--unit", "gy_sthjj", *base])
    assert r.exit_code == 0 and "1 channel(s)" in r.output and "dingtalk" in r.output
    assert "0123456789abcdef" not in r.output and "cdef" in r.output  # the token is shortened

    r = runner.invoke(cli, ["channel", "test", str(ding), *base])
    assert r.exit_code == 0 and r.output.startswith("sent:"), r.output
    (got,) = receiver.of("/dingtalk/cli")
    assert got["json"]["markdown"]["title"] == "通知渠道测试"
    assert "(https://gongzhi.example.gov.cn/)" in got["json"]["markdown"]["text"]

    r = runner.invoke(cli, ["channel", "disable", str(ding), *base])
    assert r.exit_code == 0
    with db.read() as conn:
        assert not repo.get(conn, ding).enabled
        assert repo.channels_for(conn, ["gy_sthjj"], []) == []
    assert runner.invoke(cli, ["channel", "disable", "999999", *base]).exit_code == 2

    bad = add_channel(db, "wecom", receiver.url("/wecom/cli"))
    receiver.plan("/wecom/cli", "errcode:93000")
    r = runner.invoke(cli, ["channel", "test", str(bad), *base])
    assert r.exit_code == 1 and "93000" in r.output


def test_channels_for_a_notice_reach_units_their_accounts_and_named_accounts(db, accounts):
    unit = add_channel(db, "email", "sthjj@example.gov.cn")  # unit gy_sthjj
    person = add_channel(db, "email", "li@example.gov.cn", owner_kind="user", owner="gy_sthjj")
    other = add_channel(db, "email", "as@example.gov.cn", owner_kind="user", owner="as_sthjj")
    add_channel(db, "email", "qz@example.gov.cn", owner="gy_qz_gov")
    with db.read() as conn:
        assert [c.id for c in repo.channels_for(conn, ["gy_sthjj"], [])] == [unit, person]
        assert [c.id for c in repo.channels_for(conn, ["gy_sthjj"], [], with_unit_accounts=False)] == [unit]
        assert [c.id for c in repo.channels_for(conn, [], ["as_sthjj"])] == [other]
        assert [c.id for c in repo.channels_for(conn, ["gy_sthjj"], ["as_sthjj", "gy_sthjj"])] == [unit, person, other]


def sign_in(client, username: str) -> str:
    token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/", "login_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


@pytest.fixture
def settings(tmp_path):
    return make_settings(data_dir=tmp_path, password_profile="cheapest", log_level="WARNING")


def test_the_office_page_adds_lists_tests_and_disables_channels(client, db, receiver):
    csrf = sign_in(client, "office")
    page = client.get("/office/channels")
    assert page.status_code == 200 and "通知渠道" in page.text and "尚未配置任何通知渠道" in page.text
    assert 'href="/office/channels"' in page.text  # the nav link

    r = client.post("/office/channels", data={"csrf_token": csrf, "owner": "unit:gy_sthjj", "kind": "webhook",
                                              "target": "ftp://example.cn/x", "secret": "k"})
    assert r.status_code == 422 and "地址须以 http:// 或 https:// 开头" in r.text
    assert 'value="ftp://example.cn/x"' in r.text and 'value="unit:gy_sthjj" selected' in r.text
    r = client.post("/office/channels", data={"csrf_token": csrf, "owner": "unit:t_a_bureau", "kind": "webhook",
                                              "target": receiver.url("/webhook/page")})
    assert r.status_code == 422 and "没有单位" in r.text  # a unit of another task force
    r = client.post("/office/channels", data={"csrf_token": "forged", "owner": "unit:gy_sthjj", "kind": "webhook",
                                              "target": receiver.url("/webhook/page")})
    assert r.status_code == 403

    r = client.post("/office/channels", data={"csrf_token": csrf, "owner": "unit:gy_sthjj", "kind": "webhook",
                                              "target": receiver.url("/webhook/page")}, follow_redirects=False)
    assert r.status_code == 303
    listed = client.get(r.headers["location"]).text
    assert "已新增通知渠道" in listed and "贵阳市生态环境局" in listed and "尚无发送记录" in listed
    with db.read() as conn:
        (channel,) = repo.all_channels(conn)

    tested = client.post(f"/office/channels/{channel.id}/test", data={"csrf_token": csrf})
    assert tested.status_code == 200 and "测试成功" in tested.text and "HTTP 200" in tested.text
    (got,) = receiver.of("/webhook/page")
    assert got["json"]["type"] == "test" and got["json"]["link"] == "https://gongzhi.example.gov.cn/"
    assert "已发送" in client.get("/office/channels").text  # the last attempt is shown

    r = client.post(f"/office/channels/{channel.id}/disable", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and "已停用" in client.get(r.headers["location"]).text
    with db.read() as conn:
        assert not repo.get(conn, channel.id).enabled


def test_only_the_office_sees_the_page_and_only_its_own_channels(client, db, receiver):
    foreign = add_channel(db, "webhook", receiver.url("/webhook/toy"), owner="t_a_bureau")
    sign_in(client, "gy_sthjj")
    assert client.get("/office/channels").status_code == 403
    client.cookies.clear()
    csrf = sign_in(client, "office")
    assert client.post(f"/office/channels/{foreign}/test", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/office/channels/{foreign}/disable", data={"csrf_token": csrf}).status_code == 404
    assert receiver.requests == []
    with db.read() as conn:
        assert repo.get(conn, foreign).enabled
