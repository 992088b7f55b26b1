"""Settings, read once from the environment (prefix ``ATLAS_``) and never mutated at run time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
        attempts are refused with 429 (four times as many per client address).
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
