"""Demo accounts (`gongzhi init --demo`): listed per task force in <folder>/demo_accounts.yaml."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from api.accounts import Accounts
from db.repositories import accounts as repo
from db.session import Database
from engine.bootstrap import task_force_folders
from engine.clock import Clock
from engine.organisation import parse_organisation


@dataclass(frozen=True)
class DemoAccount:
    task_force: str
    username: str
    name: str
    unit: str
    roles: list[str]
    password: str | None  # None: the account already existed


def create_demo_accounts(db: Database, accounts: Accounts, root: Path, clock: Clock) -> list[DemoAccount]:
    out = []
    for folder in task_force_folders(root):
        listed = folder / "demo_accounts.yaml"
        if not listed.is_file():
            continue
        task_force = parse_organisation(folder / "organisation.yaml").code
        for a in yaml.safe_load(listed.read_text(encoding="utf-8"))["accounts"]:
            password = None
            with db.write() as conn:
                if not repo.username_taken(conn, a["username"]):
                    password = secrets.token_urlsafe(12)
                    accounts.create_user(conn, username=a["username"], display_name=a["name"], unit=a["unit"],
                                         task_force=task_force, roles=list(a["roles"]), password=password,
                                         now=clock.now())
            out.append(DemoAccount(task_force, a["username"], a["name"], a["unit"], list(a["roles"]), password))
    return out
