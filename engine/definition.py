"""A workflow definition as frozen, typed data: what the YAML says, checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = frozenset(
    {"string", "text", "integer", "number", "boolean", "date", "datetime", "unit", "units", "choice", "choices",
     "strings", "items", "period"}
)
# An `items` field is a list of records; its own fields may be of any type but `items`.
ITEM_FIELD_TYPES = FIELD_TYPES - {"items"}
ROLE_KINDS = frozenset({"org", "party"})
STATE_COLOURS = frozenset({"yellow", "red"})
# Days left at or below which a running deadline shows yellow, unless the definition says otherwise.
DUE_SOON_DAYS = 3
# What a field may hold unless its definition says otherwise (`max_length`): a one-line text, a text of
# about 30 pages, a line of a list. Anything typed reaches a rendered document: these bound its size.
TEXT_LIMITS = {"string": 300, "text": 20_000, "strings": 300}
# A field's `max_length` may raise its limit this far, no further (a render must stay bounded).
MAX_TEXT_LIMIT = 100_000
# Entries of a list field (units, choices, strings, items).
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Invocation:
    """A named guard or effect with its (plain data) arguments."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()

    def kwargs(self) -> dict[str, Any]:
        return dict(self.args)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    required: bool = False
    title: str = ""
    choices: tuple[str, ...] = ()
    items: tuple[FieldSpec, ...] = ()  # the fields of each record of an `items` field
    max_length: int | None = None  # characters of a string or text (of each line of `strings`)
    # What a person reads for each of `choices`, in the same order (`choices: {code: title}`); () when the
    # choices are written as they read.
    choice_titles: tuple[str, ...] = ()

    def choice_title(self, code: Any) -> str:
        """A choice as a person reads it: its declared title, else the choice itself."""
        titles = dict(zip(self.choices, self.choice_titles, strict=False))
        return titles.get(str(code)) or str(code)

    @property
    def text_limit(self) -> int | None:
        """The most characters this field takes: its own `max_length`, else the default of its type."""
        return self.max_length or TEXT_LIMITS.get(self.type)


@dataclass(frozen=True, slots=True)
class RoleSpec:
    name: str
    kind: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class DurationRule:
    amount: int
    unit: str  # hour | calendar_day | working_day | month
    when_flag: str | None = None  # applies when this case-data or payload flag is true


@dataclass(frozen=True, slots=True)
class SuperviseSpec:
    """At expiry, open a case of `workflow` (the supervision ladder) linked to this one."""

    workflow: str
    parties: tuple[tuple[str, str], ...]  # (role on the new case, role on this case)
    cancel: str  # the event fired on the open ladder case when this deadline is met or extended


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a deadline comes from: a law or rule, its year and article, as the case page cites it."""

    law: str  # without the book-title marks: 人民检察院公益诉讼办案规则
    year: int
    article: str = ""  # 第七十五条; empty when only the instrument is known
    verified: bool = True  # False: the article was not checked against the published text
    note: str = ""

    @property
    def text(self) -> str:
        cite = f"《{self.law}》（{self.year}）" + (f"{self.article}" if self.article else "")
        if not self.verified:
            cite += "（条文未经核对）"
        return cite + (f"：{self.note}" if self.note else "")


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    name: str
    title: str
    rules: tuple[DurationRule, ...]  # first whose flag holds; the last has no flag
    from_field: str | None = None  # a payload date that gives the due day directly
    start_field: str | None = None  # a payload date the clock starts from (e.g. date of service)
    owner: str | None = None  # the party role that is late when this expires
    warn_share: float | None = None
    warn_before: DurationRule | None = None
    on_expiry: str | None = None  # an event the clock fires at expiry
    supervise: SuperviseSpec | None = None
    sets_due: bool = True
    source: SourceRef | None = None
    # Another deadline of the case: this clock never starts before that one's end (its due moment).
    start_after: str | None = None


@dataclass(frozen=True, slots=True)
class DeadlineOps:
    start: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()
    pause: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()
    reset: tuple[str, ...] = ()
    extend: tuple[tuple[str, str], ...] = ()  # (deadline, payload date field)

    def __bool__(self) -> bool:
        return bool(self.start or self.stop or self.pause or self.resume or self.reset or self.extend)


NO_OPS = DeadlineOps()


@dataclass(frozen=True, slots=True)
class StateSpec:
    name: str
    title: str = ""
    initial: bool = False
    final: bool = False
    # Applied on entering; deadlines it starts are stopped on leaving.
    deadlines: DeadlineOps = NO_OPS
    # The alarm a case in this state raises on every page, whatever its days left (a supervision
    # ladder's 黄牌 / 红牌 levels): "" | yellow | red. Cases linked to it show it too.
    colour: str = ""


@dataclass(frozen=True, slots=True)
class EventSpec:
    name: str
    sources: tuple[str, ...]
    dest: str | None  # None: stay in the source state
    roles: tuple[str, ...]
    title: str = ""
    guards: tuple[Invocation, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    effects: tuple[Invocation, ...] = ()
    # Document kinds this event issues; rendered after commit through the outbox.
    documents: tuple[str, ...] = ()
    deadlines: DeadlineOps = NO_OPS
    # A sanction this event records against a party, counted in the units' scorecards: (kind, role).
    card: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class CreateSpec:
    """Who may open a case of this workflow and what opening it must carry."""

    roles: tuple[str, ...]
    fields: tuple[FieldSpec, ...] = ()
    effects: tuple[Invocation, ...] = ()
    deadlines: DeadlineOps = NO_OPS


@dataclass(frozen=True)
class Definition:
    name: str
    version: int
    title: str
    roles: dict[str, RoleSpec]
    states: dict[str, StateSpec]
    events: dict[str, EventSpec]
    create: CreateSpec
    number_prefix: str
    deadlines: dict[str, DeadlineSpec]
    content_hash: str
    source: str = "<memory>"
    due_soon_days: int = DUE_SOON_DAYS
    # The kinds of link this definition's cases make, with what a person reads for each (`links:`).
    links: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def initial(self) -> str:
        return next(s.name for s in self.states.values() if s.initial)

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)
