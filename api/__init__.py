"""The HTTP API of the atlas (FastAPI) and its command line (``atlas``)."""
