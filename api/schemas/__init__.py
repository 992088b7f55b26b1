"""Pydantic schemas of the API: request bodies and responses."""
