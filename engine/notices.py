"""Who is told of what: notification rules declared per task force, turned into notices in the
transaction of the event that causes them.

A task force folder may hold `notifications.yaml`:

    notifications:
      - code: referral_received          # unique in the file; part of each notice's dedupe key
        workflow: referral               # a workflow of the task force, or "*" for every workflow
        when: refer                      # an event, `create`, or a clock note (deadline_warning, ...)
        to:                              # recipients, each one of:
          - party: receiver              #   the units in a party role of the case
          - office: true                 #   the task force's office units
          - role: convenor               #   the accounts holding an organisation role
          - deadline_owner: true         #   (clock notes) the units owing the deadline
        title: 收到移送问题：{title}       # placeholders: number title workflow event state deadline due actor
        body: ...                        # optional, same placeholders

Each recipient unit gets one in-product notice (every account of the unit reads it), each account
named by a role gets its own; and for every channel configured for that unit or account (e-mail, a
group robot, a webhook) one outbox row, keyed by (case, history row, rule, recipient, channel) so the
same notice is never queued twice. Delivery happens after commit, elsewhere; nothing here sends.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from db.repositories import channels as channels_repo
from db.repositories import notices as repo
from db.repositories import time as trepo
from engine.definition import Definition
from engine.errors import DefinitionError
from engine.loader import NAME_RE, parse_yaml
from engine.localtime import moment_of, to_local

SETTING_PREFIX = "notifications:"
# Notes the engine itself writes on a case; rules may name them as causes.
CLOCK_NOTES = {"deadline_warning": "期限提醒", "deadline_expired": "期限届满", "supervision_opened": "启动督办"}
PLACEHOLDERS = frozenset({"number", "title", "workflow", "event", "state", "deadline", "due", "actor"})
RECIPIENT_KINDS = ("party", "office", "role", "deadline_owner")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Rule:
    code: str
    workflow: str  # a workflow name or "*"
    on: str
    to: tuple[tuple[str, str], ...]  # (kind, value): ("party", "receiver"), ("office", ""), ...
    title: str
    body: str

    def as_data(self) -> dict[str, Any]:
        return {"code": self.code, "workflow": self.workflow, "on": self.on, "to": [list(t) for t in self.to],
                "title": self.title, "body": self.body}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Rule:
        return cls(data["code"], data["workflow"], data["on"], tuple((k, v) for k, v in data["to"]),
                   data["title"], data.get("body", ""))


def parse_notifications(path: Path, definitions: Mapping[str, Definition], org_roles: frozenset[str]) -> list[Rule]:
    """Read and check a task force's notifications.yaml against its (latest) definitions."""
    if not path.is_file():
        return []
    source = str(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"), source) or {}
    if not isinstance(doc, dict) or set(doc) - {"notifications"}:
        raise DefinitionError(source, None, "a notifications file holds one key, `notifications:`, a list of rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for node in doc.get("notifications") or []:
        line = getattr(node, "line", None)

        def fail(problem: str, line=line) -> None:
            raise DefinitionError(source, line, problem)

        if not isinstance(node, dict):
            fail("each rule is a mapping with code, workflow, when, to and title")
        unknown = set(node) - {"code", "workflow", "when", "to", "title", "body"}
        if unknown:
            fail(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} — allowed: code, workflow, when, to, title, body")
        code = node.get("code")
        if not isinstance(code, str) or not NAME_RE.match(code) or code in seen:
            fail(f"rule code {code!r} missing, malformed or repeated")
        seen.add(code)
        workflow = node.get("workflow")
        on = node.get("when")
        if workflow != "*" and workflow not in definitions:
            fail(f"rule {code!r}: unknown workflow {workflow!r} — known: {', '.join(sorted(definitions))}")
        targets = list(definitions.values()) if workflow == "*" else [definitions[workflow]]
        causes = set(CLOCK_NOTES) | {"create"}
        for d in targets:
            causes |= set(d.events)
        if not isinstance(on, str) or on not in causes:
            fail(f"rule {code!r}: `when` {on!r} is no event of {workflow} — allowed: create, "
                 f"{', '.join(sorted(CLOCK_NOTES))} or an event name")
        to = []
        for r in node.get("to") or []:
            if not isinstance(r, dict) or len(r) != 1 or next(iter(r)) not in RECIPIENT_KINDS:
                fail(f"rule {code!r}: each recipient is one of {', '.join(RECIPIENT_KINDS)}", getattr(r, "line", line))
            kind, value = next(iter(r.items()))
            if kind == "party":
                if not any(value in d.roles and d.roles[value].kind == "party" for d in targets):
                    fail(f"rule {code!r}: {value!r} is no party role of {workflow}")
            elif kind == "role":
                if value not in org_roles:
                    fail(f"rule {code!r}: {value!r} is no organisation role — known: {', '.join(sorted(org_roles))}")
            elif value is not True:
                fail(f"rule {code!r}: write `{kind}: true`")
            to.append((kind, value if kind in ("party", "role") else ""))
        if not to:
            fail(f"rule {code!r}: `to` names nobody")
        title, body = node.get("title"), node.get("body") or ""
        if not isinstance(title, str) or not title.strip():
            fail(f"rule {code!r}: a title is needed")
        for text in (title, body):
            bad = [p for p in _PLACEHOLDER_RE.findall(str(text)) if p not in PLACEHOLDERS]
            if bad:
                fail(f"rule {code!r}: unknown placeholder {{{bad[0]}}} — allowed: "
                     + ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS)))
        rules.append(Rule(code, workflow, on, tuple(to), title.strip(), str(body).strip()))
    return rules


def store_rules(conn: Connection, task_force: str, rules: list[Rule]) -> None:
    trepo.put_setting(conn, SETTING_PREFIX + task_force, {"rules": [r.as_data() for r in rules]})


def _fill(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), ""), template)


def _zh(at: datetime | str | None) -> str:
    if not at:
        return ""
    local = to_local(moment_of(at))
    return f"{local.year}年{local.month}月{local.day}日"


class Notifier:
    """Per process: the rules of each task force (re-read now and then, so `gongzhi init` reaches a
    running server), and the writing of notices for one cause."""

    REFRESH_SECONDS = 30.0

    def __init__(self) -> None:
        self._rules: dict[str, tuple[float, dict[tuple[str, str], list[Rule]]]] = {}
        self._lock = threading.Lock()

    def rules_for(self, conn: Connection, task_force: str, workflow: str, cause: str) -> list[Rule]:
        with self._lock:
            cached = self._rules.get(task_force)
        if cached is None or time.monotonic() - cached[0] > self.REFRESH_SECONDS:
            stored = trepo.get_setting(conn, SETTING_PREFIX + task_force) or {}
            index: dict[tuple[str, str], list[Rule]] = {}
            for data in stored.get("rules", []):
                rule = Rule.from_data(data)
                index.setdefault((rule.workflow, rule.on), []).append(rule)
            cached = (time.monotonic(), index)
            with self._lock:
                self._rules[task_force] = cached
        index = cached[1]
        return index.get((workflow, cause), []) + index.get(("*", cause), [])

    def record(self, conn: Connection, *, task_force: str, definition: Definition, case_id: int, number: str,
               title: str, seq: int, cause: str, state: str, parties: Mapping[str, list[str]],
               payload: Mapping[str, Any], actor_unit: str | None, now: datetime) -> int:
        """Write the notices the rules choose for this cause; returns how many."""
        rules = self.rules_for(conn, task_force, definition.name, cause)
        if not rules:
            return 0
        values = {
            "number": number, "title": title, "workflow": definition.title,
            "event": definition.events[cause].title if cause in definition.events else CLOCK_NOTES.get(cause, ""),
            "state": definition.states[state].title if state in definition.states else state,
            "deadline": str(payload.get("title") or ""), "due": _zh(payload.get("due_at")),
            "actor": (repo.unit_names(conn, [actor_unit]).get(actor_unit, "") if actor_unit else ""),
        }
        written = 0
        for rule in rules:
            units, roles = self._recipients(conn, rule, task_force, definition, parties, payload)
            users = repo.accounts_with_roles(conn, task_force, roles) if roles else []
            head, body = _fill(rule.title, values)[:300], _fill(rule.body, values)
            for unit in units:
                written += self._one(conn, rule, task_force, case_id, number, seq, cause, head, body, now,
                                     unit=unit)
            for user_id, username in users:
                written += self._one(conn, rule, task_force, case_id, number, seq, cause, head, body, now,
                                     user=(user_id, username))
        return written

    @staticmethod
    def _recipients(conn: Connection, rule: Rule, task_force: str, definition: Definition,
                    parties: Mapping[str, list[str]], payload: Mapping[str, Any]) -> tuple[list[str], set[str]]:
        units: list[str] = []
        roles: set[str] = set()
        for kind, value in rule.to:
            if kind == "party":
                units += parties.get(value, [])
            elif kind == "office":
                units += repo.office_units(conn, task_force)
            elif kind == "role":
                roles.add(value)
            elif kind == "deadline_owner":
                spec = definition.deadlines.get(str(payload.get("deadline", "")))
                owner = spec.owner if spec is not None else None
                if owner and definition.roles.get(owner) is not None:
                    if definition.roles[owner].kind == "party":
                        units += parties.get(owner, [])
                    else:
                        roles.add(owner)
        return list(dict.fromkeys(units)), roles

    @staticmethod
    def _one(conn: Connection, rule: Rule, task_force: str, case_id: int, number: str, seq: int, cause: str, title: str,
             body: str, now: datetime, *, unit: str | None = None, user: tuple[int, str] | None = None) -> int:
        notice_id = repo.insert_notice(conn, {
            "task_force_code": task_force, "case_id": case_id, "history_seq": seq, "cause": cause, "rule": rule.code,
            "unit_code": unit, "user_id": user[0] if user else None, "title": title, "body": body,
            "created_at": now})
        channels = channels_repo.channels_for(conn, [unit] if unit else [], [user[1]] if user else [])
        if channels:
            recipient = f"u:{unit}" if unit else f"a:{user[0]}"  # type: ignore[index]
            repo.enqueue_deliveries(conn, [
                {"case_id": case_id, "history_seq": seq,
                 "dedupe_key": f"{case_id}:{seq}:{rule.code}:{recipient}:{ch.id}"[:200],
                 "payload": {"notice_id": notice_id, "channel_id": ch.id, "kind": ch.kind, "target": ch.target,
                             "title": title, "body": body, "link": f"/case/{case_id}", "case_number": number}}
                for ch in channels], now)
        return 1
