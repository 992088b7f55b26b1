"""Schemas of accounts: users, tokens, API keys and audit entries."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.common import INT32_MAX, Link, Timestamp, text
from api.security import check_password_strength
from geo.enums import Role

Password = Annotated[str, Field(min_length=8, max_length=256, description="8 to 256 characters"),
                     AfterValidator(check_password_strength)]
UserName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s]+$",
                                description="login name without spaces", examples=["wang.fang"])]
Township = Annotated[str, Field(min_length=1, max_length=100, description="township name, code or id")]
RoleField = Annotated[Role, Field(description="; ".join(f"{r.value} ({r.label})" for r in Role))]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


class LoginFormOut(BaseModel):
    csrf_token: str = Field(description="send back as the form field csrf_token (or the header "
                                        "X-CSRF-Token) of POST /api/auth/session, with the cookie set here")


class UserPublic(BaseModel):
    id: int
    name: str
    display_name: str | None = None
    role: Role
    role_label: str
    is_active: bool
    townships: list[str] = Field(description="townships the user is limited to; empty = all")
    created_at: Timestamp
    updated_at: Timestamp
    version: int

    @classmethod
    def of(cls, user: dict[str, Any]) -> "UserPublic":
        role = Role.parse(user["role"])
        return cls(id=user["id"], name=user["name"], display_name=user["display_name"], role=role,
                   role_label=role.label, is_active=bool(user["is_active"]),
                   townships=user["township_names"], created_at=user["created_at"],
                   updated_at=user["updated_at"], version=user["version"])


class Me(UserPublic):
    permissions: list[str]
    authenticated_by: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "wang.fang", "role": "leader", "password": "correct horse battery", "townships": ["兴仁镇"]}]})

    name: UserName
    role: RoleField
    password: Password | None = Field(None, description="omit for an account that uses API keys only")
    display_name: text(100) | None = None
    townships: list[Township] = Field(default_factory=list, max_length=100,
                                      description="limit the user to these townships; empty = all")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "planner"}]})

    role: RoleField | None = None
    password: Password | None = None
    display_name: text(100) | None = None
    is_active: bool | None = None
    townships: list[Township] | None = Field(None, max_length=100)
    version: int | None = Field(None, ge=1, le=INT32_MAX, description="the version you read (or If-Match)")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: Password


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"label": "nightly export"}]})

    label: text(100)
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="omit for no expiry")


class KeyPublic(BaseModel):
    id: int
    label: str
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None = None
    expires_at: Timestamp | None = None
    revoked_at: Timestamp | None = None


class KeyCreated(KeyPublic):
    key: str = Field(description="the API key; shown this once only, store it now")


class AuditEntryOut(BaseModel):
    id: int
    at: Timestamp
    user_id: int | None
    user_name: str
    action: str
    layer: str
    row_id: int | None
    before: dict | None
    after: dict | None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    numberMatched: int
    numberReturned: int
    links: list[Link] = []
