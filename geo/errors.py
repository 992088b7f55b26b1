"""Domain exceptions. Each message says what was wrong and what to do; the API maps them to
HTTP statuses in one table and the CLI prints them as one line."""

from __future__ import annotations


class AtlasError(Exception):
    """Base of every error the atlas reports to a user."""

    #: Short machine-readable kind, used by the API's problem+json ``type``.
    kind = "atlas-error"


class DatabaseError(AtlasError):
    """The database cannot be reached, opened or used."""

    kind = "database"


class DatabaseBusy(DatabaseError):
    """The database stayed locked by other writers for longer than a request may wait.

    Nothing was changed; the same request may simply be sent again after ``retry_after_s``.
    """

    kind = "database-busy"

    def __init__(self, message: str, *, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SpatialiteMissing(DatabaseError):
    """``mod_spatialite`` cannot be loaded."""

    kind = "spatialite-missing"


class SchemaMissing(DatabaseError):
    """The database exists but its schema was never created or is out of date."""

    kind = "schema-missing"


class NotFound(AtlasError):
    """A layer, row or key the caller named does not exist."""

    kind = "not-found"


class ValidationError(AtlasError):
    """Input that cannot be stored as given."""

    kind = "validation"


class PartitionFailed(AtlasError):
    """A partitioned run could not finish every partition (its worker died too often, the
    scheduler went away); nothing is returned rather than part of the answer. HTTP 503."""

    kind = "partition-failed"


class TooLarge(ValidationError):
    """Input beyond a size limit (an archive expanding too far, too many members); the
    message names the limit. HTTP 413."""

    kind = "payload-too-large"


class Conflict(AtlasError):
    """A write that would overwrite a newer version or break a uniqueness rule."""

    kind = "conflict"


class StaleVersion(Conflict):
    """An update or delete named a version of the row that is no longer the current one."""

    kind = "stale-version"

    def __init__(self, message: str, *, current_version: int):
        super().__init__(message)
        self.current_version = current_version


class Forbidden(AtlasError):
    """The caller's role or assignments do not allow what they asked for."""

    kind = "forbidden"


class OutOfScope(AtlasError):
    """A write that would put a row outside the townships the caller may change."""

    kind = "out-of-scope"


class AuthenticationFailed(AtlasError):
    """A login with a wrong name or password, or for a deactivated account (never says which)."""

    kind = "not-authenticated"


class TooManyAttempts(AtlasError):
    """Too many failed logins for one name: refused until ``retry_after_s`` seconds have passed."""

    kind = "too-many-requests"

    def __init__(self, message: str, *, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s
