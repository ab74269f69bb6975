"""Workflow definitions as readers see them (the compiled definition, not the raw YAML)."""

from __future__ import annotations

from pydantic import BaseModel

from engine.definition import Definition, FieldSpec


class FieldInfo(BaseModel):
    name: str
    type: str
    required: bool
    title: str
    choices: list[str] = []
    choice_titles: list[str] = []  # what a person reads for each of `choices`, when the definition says

    @classmethod
    def of(cls, f: FieldSpec) -> FieldInfo:
        return cls(name=f.name, type=f.type, required=f.required, title=f.title, choices=list(f.choices),
                   choice_titles=list(f.choice_titles))


class RoleInfo(BaseModel):
    name: str
    kind: str
    title: str


class StateInfo(BaseModel):
    name: str
    title: str
    initial: bool
    final: bool


class EventInfo(BaseModel):
    name: str
    title: str
    from_states: list[str]
    to_state: str | None
    roles: list[str]
    fields: list[FieldInfo]
    documents: list[str]


class CreateInfo(BaseModel):
    roles: list[str]
    fields: list[FieldInfo]


class DefinitionSummary(BaseModel):
    id: int
    task_force: str
    name: str
    version: int
    title: str
    content_hash: str
    latest: bool


class DefinitionRead(DefinitionSummary):
    roles: list[RoleInfo]
    states: list[StateInfo]
    events: list[EventInfo]
    create: CreateInfo

    @classmethod
    def of(cls, summary: DefinitionSummary, d: Definition) -> DefinitionRead:
        return cls(
            **summary.model_dump(),
            roles=[RoleInfo(name=r.name, kind=r.kind, title=r.title) for r in d.roles.values()],
            states=[StateInfo(name=s.name, title=s.title, initial=s.initial, final=s.final) for s in d.states.values()],
            events=[EventInfo(name=e.name, title=e.title, from_states=list(e.sources), to_state=e.dest,
                              roles=list(e.roles), fields=[FieldInfo.of(f) for f in e.fields],
                              documents=list(e.documents)) for e in d.events.values()],
            create=CreateInfo(roles=list(d.create.roles), fields=[FieldInfo.of(f) for f in d.create.fields]),
        )
