"""Signing in and who I am."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.common import SafeStr, Strict

Username = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.@\-]+$")]
Password = Annotated[SafeStr, Field(min_length=1, max_length=200)]


class SignIn(Strict):
    username: Username
    password: Password


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class Me(BaseModel):
    id: str = Field(description="user:<n> or key:<n>; the actor id recorded in case history")
    kind: Literal["user", "key"]
    login: str
    display_name: str
    unit: str
    unit_name: str | None = None
    task_force: str
    roles: list[str]
    office: bool


class SessionRead(BaseModel):
    me: Me
    expires_at: datetime
    csrf_token: str = Field(description="send as X-CSRF-Token with every unsafe request made with the cookie")
