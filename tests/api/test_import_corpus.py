"""The regression corpus of bad import files (``tests/geo/io/corpus/make_corpus.py``) through
``atlas import --strict`` (in process, through its entry point) and ``POST /api/imports`` (the
real app in process), on both backends.

Every case must answer its HTTP status and exit 1, with a message naming the file (and the
row and field where the case is about one), no traceback, none of the personal values the
files hold; and leave every table as it was: row counts and a checksum of every row's
content, compared after each case. One demo database per backend serves the whole corpus,
which is only sound because the checksum shows that nothing changed.
"""

from __future__ import annotations

import hashlib
import logging
import warnings

import pytest
from starlette.testclient import TestClient

from geo.models import Base
from tests.api.accounts import PASSWORD, ensure_users
from tests.conftest import run_cli
from tests.geo.io.corpus.make_corpus import PERSONAL, make_corpus

CASES = {case.name: case for case in make_corpus(None)}


def snapshot(engine) -> dict[str, tuple[int, str]]:
    """Row count and a checksum of the rows (in primary-key order) of every table, each
    computed by the database in one statement (every column's value as text)."""
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = ", ".join(c.name for c in (list(table.primary_key.columns) or list(table.columns)))
            if conn.dialect.name == "postgresql":
                sql = f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY {order})) FROM {table.name} t"
            else:
                row = " || ',' || ".join(f"quote({c.name})" for c in table.columns)
                sql = f"SELECT count(*), group_concat(r, '|') FROM (SELECT {row} AS r FROM {table.name} ORDER BY {order})"
            count, text = conn.exec_driver_sql(sql).one()
            out[table.name] = (count, hashlib.blake2b((text or "").encode(), digest_size=16).hexdigest())
    return out


class Corpus:
    """The corpus's files, one demo database, the app over it and a planner's token."""

    def __init__(self, databases, folder):
        from api.app import create_app
        from geo.db import make_engine
        from geo.settings import Settings

        self.folder = folder
        self.url = databases.demo_url()
        self.engine = make_engine(self.url)
        ensure_users(self.engine)
        self.client = TestClient(create_app(engine=self.engine, settings=Settings(database_url=self.url)),
                                 raise_server_exceptions=False)
        token = self.client.post("/api/auth/token", data={"username": "t_planner", "password": PASSWORD})
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        self.before = snapshot(self.engine)


@pytest.fixture(scope="session")
def corpus_folder(tmp_path_factory):
    """The corpus's files, written once for both backends."""
    folder = tmp_path_factory.mktemp("corpus")
    with warnings.catch_warnings():  # pyogrio: the corpus's Shapefiles have no CRS, on purpose
        warnings.simplefilter("ignore")
        make_corpus(folder)
    return folder


@pytest.fixture(scope="module")
def corpus(databases, corpus_folder):
    instance = Corpus(databases, corpus_folder)
    yield instance
    instance.client.close()
    instance.engine.dispose()


def _clean(text: str, case) -> None:
    assert "Traceback" not in text, text
    for value in PERSONAL:
        assert value not in text, f"{case.name}: a personal value in the message"
    assert "/tmp/" not in text and "atlas-upload-" not in text, text


@pytest.mark.parametrize("name", list(CASES))
def test_bad_file_is_refused_and_changes_nothing(corpus, name, caplog):
    case = CASES[name]
    path = corpus.folder / case.name

    args = ["import", str(path), "--layer", case.layer, "--strict", "--db", corpus.url]
    for option, value in case.options.items():
        args += [f"--{option.replace('_', '-')}", value]
    cli = run_cli(*args)
    said = cli.stdout + cli.stderr
    assert cli.returncode == 1, said
    for word in case.words:
        assert word in said, f"{case.name}: {word!r} not in the CLI's message:\n{said}"
    _clean(said, case)

    form = {"layer": case.layer, **{("map" if k == "map" else k): v for k, v in case.options.items()}}
    with caplog.at_level(logging.INFO):
        response = corpus.client.post("/api/imports", headers=corpus.headers, data=form,
                                      files={"file": (case.name, path.read_bytes())})
    assert response.status_code == case.status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    for word in case.words:
        assert word in response.text, f"{case.name}: {word!r} not in the HTTP answer:\n{response.text}"
    assert case.name in detail or case.status == 404, detail
    _clean(response.text, case)
    _clean(caplog.text, case)

    assert snapshot(corpus.engine) == corpus.before


def test_the_corpus_is_large_and_varied():
    families = {case.family for case in CASES.values()}
    assert len(CASES) >= 60
    assert {"encoding", "structure", "quoting", "geometry", "crs", "keys", "numbers", "control", "personal",
            "zip", "shapefile"} <= families
