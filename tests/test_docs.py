"""The documentation stays true to the tree: links resolve, the files it names exist, every engine
package has its section in the architecture, every configuration variable is in operations.md,
and the README still opens with the two commands a newcomer runs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
README = ROOT / "README.md"
# Every Markdown file whose links are checked; paths are checked in the README and docs/.
LINKED = [README, ROOT / "workflows" / "README.md", *DOCS]
DESCRIBED = [README, *DOCS]

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A path into the tree, not part of a longer path or URL; `<name>` placeholders end it.
PATH = re.compile(r"(?<![\w/.-])((?:engine|web|models|workflows|tests|bench|docs)/[\w./-]*)(<?)")
FENCE = re.compile(r"^\s*```")


def _prose(path: Path) -> list[str]:
    """The file's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in _prose(path) if line.startswith("#")}


def _named(text: str) -> list[str]:
    """The repository paths a text names, as they should exist (a placeholder's folder, a module
    without the attribute that follows it)."""
    found = []
    for match in PATH.finditer(text):
        path, placeholder = match.group(1), match.group(2)
        if placeholder:
            path = path[: path.rfind("/") + 1]
        if ".py." in path:
            path = path[: path.index(".py.") + 3]
        found.append(path.rstrip(".,"))
    return found


@pytest.mark.parametrize("doc", LINKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path):
    broken = []
    for line in _prose(doc):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: outside the repository
            file_part, _, anchor = target.partition("#")
            resolved = (doc.parent / file_part).resolve() if file_part else doc
            if not resolved.exists():
                broken.append(f"{target}: no such file")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("doc", DESCRIBED, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_paths_exist(doc: Path):
    missing = sorted({path for path in _named(doc.read_text(encoding="utf-8")) if not (ROOT / path).exists()})
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {', '.join(missing)}"


def test_every_engine_package_and_module_is_in_the_architecture():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    headings = {line.strip() for line in text.splitlines() if line.startswith("### ")}
    packages = sorted(p.parent.name for p in (ROOT / "engine").glob("*/__init__.py"))
    assert packages, "no engine packages found"
    without_section = [name for name in packages if f"### engine/{name}/" not in headings]
    assert not without_section, f"docs/architecture.md has no '### engine/NAME/' section for: {without_section}"
    modules = sorted(p.name for p in (ROOT / "engine").glob("*.py") if p.name != "__init__.py")
    unnamed = [name for name in modules if f"engine/{name}" not in text]
    assert not unnamed, f"docs/architecture.md does not name the engine modules: {unnamed}"


def test_every_configuration_variable_is_in_operations():
    source = (ROOT / "config.py").read_text(encoding="utf-8")
    variables = set(re.findall(r"os\.environ(?:\.get\(|\[)\"(\w+)\"", source))
    assert "DATABASE_URL" in variables and "LIANDONG_INSTANCE" in variables
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = sorted(name for name in variables if f"`{name}`" not in operations)
    assert not missing, f"docs/operations.md does not describe: {', '.join(missing)}"


def test_readme_opens_with_make_run_and_make_test():
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]
