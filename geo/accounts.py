"""Accounts of the API: users, their township scopes, API keys and login attempts.

The SQL lives in :mod:`geo.storage.accounts`; this module re-exports its names so that
``from geo import accounts`` keeps working.
"""

from __future__ import annotations

from geo.storage.accounts import (
    ATTEMPTS,
    KEYS,
    SCOPES,
    TOWNSHIPS,
    USER_FIELDS,
    USERS,
    add_api_key,
    count_users,
    create_user,
    delete_user,
    find_api_key,
    get_user,
    list_api_keys,
    list_users,
    recent_failures,
    record_login,
    revoke_api_key,
    touch_api_key,
    update_user,
)

__all__ = [
    "ATTEMPTS", "KEYS", "SCOPES", "TOWNSHIPS", "USERS", "USER_FIELDS", "add_api_key", "count_users",
    "create_user", "delete_user", "find_api_key", "get_user", "list_api_keys", "list_users",
    "recent_failures", "record_login", "revoke_api_key", "touch_api_key", "update_user",
]
