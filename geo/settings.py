"""Settings, read once from the environment (prefix ``ATLAS_``) and never mutated at run time."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The repository root when installed in editable mode (the supported way): ``data/`` lives here.
PROJECT_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_SECRET = "dev-insecure-secret-change-me-before-production"


class Settings(BaseSettings):
    """Every knob the atlas reads from its environment.

    Attributes
    ----------
    database_url
        SQLAlchemy URL. ``sqlite:///path`` selects SpatiaLite (the embedded default);
        ``postgresql+psycopg://user@host/db`` selects PostGIS.
    environment
        ``development`` permits the default secret; anything else refuses it.
    secret_key
        Signs API tokens. Must be set outside development.
    tianditu_key
        Key for Tianditu (天地图) tiles; the Tianditu base layers are hidden without it.
    max_upload_mb
        Largest file ``POST /api/imports`` takes [MiB].
    weather_max_mb
        Largest weather file the PV routes take [MiB] (a typical-year file is 1-3 MiB).
    dem_max_mb, dem_max_pixels
        Largest DEM GeoTIFF ``POST /api/pv/site`` takes [MiB], and most pixels in it (its
        width × height), so that a small, well compressed file cannot expand beyond memory
        (50 million: a 30 m DEM of about 210 km × 210 km).
    allow_anonymous_read
        Let requests without credentials read the public layers (default: no).
    access_token_minutes
        Lifetime of a token from ``POST /api/auth/token`` [min].
    login_max_failures, login_window_minutes
        Failed password logins allowed per login name within the window before further
        attempts for that name are refused with 429 (the lock-out lasts the window).
    login_slowdown_after, login_max_delay_seconds
        Failed logins from one client address within the window (any names) after which
        every login from that address waits before it is checked: 0.25 s, then twice as
        long after each further failure, at most ``login_max_delay_seconds`` [s] (0: never
        wait). An address is slowed down, never locked out, so a county office behind one
        NAT address can still log in while someone there guesses.
    trusted_proxies
        Addresses or networks (``10.0.0.1``, ``10.0.0.0/8``) of reverse proxies whose
        ``X-Forwarded-For`` and ``X-Forwarded-Proto`` headers are believed; the client is
        the rightmost address in ``X-Forwarded-For`` that is not a trusted proxy. Empty (the
        default): the headers are ignored and the client is the connecting address. The
        environment variable takes a comma-separated list:
        ``ATLAS_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8``.
    monitor_income_line_yuan, monitor_out_of_pocket_yuan, monitor_thresholds_source
        防止返贫监测: the monitoring line (监测范围, 12-month net income per person
        [yuan/person/yr]) and the compliant out-of-pocket costs above which a household is
        flagged [yuan], with where they come from (the province's notice). Each province sets
        them every year, so there is no default: unset, the checks that need them do not run
        and every case and report says so. See docs/monitoring.md.
    monitor_posting_days
        Shortest posting (公示) of a monitoring case [working days] (default 5: 公示5个工作日).
    map_tile_threshold
        A served map draws a large layer (households, roads, settlements) from the server's
        vector tiles instead of embedding it when it holds more than this many rows
        [features] (default 10,000; 0: never). Files written by ``atlas map`` always embed.
    """

    model_config = SettingsConfigDict(env_prefix="ATLAS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{(Path.cwd() / 'var' / 'atlas.sqlite').as_posix()}"
    )
    environment: Literal["development", "production", "test"] = "development"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    tianditu_key: str | None = None
    demo_dir: Path = PROJECT_ROOT / "data"
    max_upload_mb: int = 50
    weather_max_mb: int = Field(default=10, ge=1, le=1024)
    dem_max_mb: int = Field(default=100, ge=1, le=10_240)
    dem_max_pixels: int = Field(default=50_000_000, ge=1, le=2_000_000_000)
    allow_anonymous_read: bool = False
    access_token_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    login_slowdown_after: int = Field(default=20, ge=1)
    login_max_delay_seconds: float = Field(default=4.0, ge=0, le=30)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    monitor_income_line_yuan: float | None = Field(default=None, gt=0, le=1_000_000)
    monitor_out_of_pocket_yuan: float | None = Field(default=None, gt=0, le=10_000_000)
    monitor_thresholds_source: str | None = Field(default=None, max_length=300)
    monitor_posting_days: int = Field(default=5, ge=1, le=60)
    map_tile_threshold: int = Field(default=10_000, ge=0)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        checked = []
        for entry in value:
            try:
                checked.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                raise ValueError(
                    f"ATLAS_TRUSTED_PROXIES: {entry[:60]!r} is not an IP address or network; give "
                    "addresses or CIDR networks separated by commas, e.g. 127.0.0.1,10.0.0.0/8"
                ) from None
        return checked

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment != "development" and (
            self.secret_key.get_secret_value() == DEFAULT_SECRET
            or len(self.secret_key.get_secret_value()) < 32
        ):
            raise ValueError(
                "ATLAS_SECRET_KEY must be set to a random string of at least 32 characters "
                f"when ATLAS_ENVIRONMENT={self.environment!r}; e.g. "
                "export ATLAS_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
