"""The README is a guide: its quick start is the two scripts, its commands run as a user types
them, and every link in it and in docs/ leads somewhere."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))
#: The README and the pages written to its rules (commands as a user runs them, sources by
#: document, working links). Add a page here once it follows them.
GUIDES = [ROOT / "README.md", *(ROOT / "docs" / name for name in (
    "README.md", "install.md", "architecture.md", "data-model.md", "demo-data.md", "cli.md", "api.md",
    "import-export.md", "settings.md", "sources.md", "pages.md", "maps.md", "analyses.md", "pv.md",
    "sampling.md", "ogc.md", "field-kit.md", "field-kit-offline.md", "monitoring.md", "project-library.md",
    "areas.md", "scale.md"))]
#: Pages other work in progress adds; linked from docs/README.md already. A page that exists
#: is checked like any other.
PENDING: set[str] = set()
_BLOCK = re.compile(r"```(?:bash|sh)?\n(.*?)```", re.DOTALL)
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _commands(block: str) -> list[str]:
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def test_the_quick_start_is_exactly_the_two_scripts():
    blocks = _BLOCK.findall(_section(README, "Quick start"))
    assert [_commands(b) for b in blocks] == [["./run.sh", "./test.sh"]]
    for script in ("run.sh", "test.sh"):
        path = ROOT / script
        assert path.is_file() and os.access(path, os.X_OK), script
        assert path.read_text().startswith("#!/usr/bin/env bash")


def test_no_script_a_user_runs_installs_node():
    for path in (ROOT / "run.sh", ROOT / "test.sh", ROOT / ".ci/run", ROOT / "scripts/bootstrap.sh"):
        text = path.read_text()
        assert not re.search(r"\b(npm|nodejs|node_modules)\b", text), path


def test_commands_are_shown_as_a_user_runs_them():
    """After ./run.sh, `atlas` is .venv/bin/atlas; a bare `atlas` is not on the PATH."""
    for path in GUIDES:
        for block in _BLOCK.findall(path.read_text(encoding="utf-8")):
            for command in _commands(block):
                assert not command.startswith("atlas "), f"{path.name}: {command}"


def test_no_source_outside_the_repository_and_no_issue_numbers():
    for path in GUIDES:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "seeds/" not in text, path.name
        assert not re.search(r"\bissue \d", text), path.name


def test_every_relative_link_leads_to_a_file_and_heading():
    for path in GUIDES:
        for target in _LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.exists() and linked.name in PENDING and linked.parent == ROOT / "docs":
                continue
            assert linked.exists(), f"{path.name} links to {target}"
            if anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.MULTILINE)
                slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
                assert anchor in slugs, f"{path.name} links to {target}"


def test_every_docs_page_is_reached_from_the_index():
    """From docs/README.md, following links page to page, every page of docs/ is reached."""
    index = ROOT / "docs/README.md"
    reached, todo = {index}, [index]
    while todo:
        for target in _LINK.findall(todo.pop().read_text(encoding="utf-8")):
            linked = (index.parent / target.partition("#")[0]).resolve()
            if linked.suffix == ".md" and linked.exists() and linked not in reached:
                reached.add(linked)
                todo.append(linked)
    assert {p.resolve() for p in DOCS} <= reached
    for name in PENDING:
        assert f"]({name})" in index.read_text(encoding="utf-8"), name


def test_the_readme_reads_in_five_minutes():
    assert len(README.split()) < 1200
    assert "Where does X live" in README
