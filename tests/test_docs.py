"""The docs stay true: the derivations page covers every backward and its commands select tests,
every link, file path and ``numnet.`` name named in README.md, bench/README.md and docs/*.md
exists, and no timings or commit hashes sit in the prose (they belong in docs/performance.md and
the bench output)."""

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _pytest.mark.expression import Expression

import numnet.layers as layers

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    """scripts/gen_derivations.py, imported once (registered, as its dataclass needs)."""
    if "gen_derivations" not in sys.modules:
        path = ROOT / "scripts" / "gen_derivations.py"
        spec = importlib.util.spec_from_file_location("gen_derivations", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["gen_derivations"] = module
        spec.loader.exec_module(module)
    return sys.modules["gen_derivations"]


DERIVATIONS = ROOT / "docs" / "derivations.md"


def _page() -> str:
    return DERIVATIONS.read_text(encoding="utf-8")


def test_derivations_index_is_current():
    assert _page() == _generator().with_index(_page()), (
        "the index of docs/derivations.md is stale: run python scripts/gen_derivations.py"
    )


def test_derivations_page_is_true_to_the_code():
    """Every public backward and loss has a section; every row named is in the layer table."""
    assert _generator().problems(_page()) == []


def test_derivations_are_rendered_maths_not_code_spans():
    """Maths goes in $...$ / $$...$$ (GitHub and Jupyter render it), never in a code span."""
    spans = re.findall(r"`([^`]+)`", re.sub(r"\$\$.*?\$\$", "", _page(), flags=re.S))
    latex = [span for span in spans if "\\" in span or "sum_" in span or "^" in span]
    assert not latex, f"LaTeX in code spans of docs/derivations.md: {latex}"
    assert _page().count("$$") >= 2 * 20


def _notes(doc: str) -> str:
    """The text of a NumPy-style docstring's Notes section."""
    match = re.search(r"\n\s*Notes\n\s*-+\n(.*?)(?:\n\s*\w[\w ]*\n\s*-+\n|$)", doc, re.S)
    return match.group(1).strip() if match else ""


def test_readme_find_your_way_table_is_current():
    """README's layer -> derivation -> code -> test table is the one the page's sections give."""
    table = _generator().find_your_way(_page())
    assert table.count("\n") >= 14
    assert table in (ROOT / "README.md").read_text(encoding="utf-8"), (
        "README.md's find-your-way table is stale: paste python scripts/gen_derivations.py --readme"
    )


def test_every_backward_carries_a_derivation():
    for name in layers.__all__:
        if name.endswith("_backward") or name.endswith("_loss"):
            notes = _notes(getattr(layers, name).__doc__ or "")
            assert len(notes) > 40, f"{name} has no derivation in its Notes section"


def _nodeids(paths: list[str]) -> list[str]:
    """The ids of the tests under ``paths``, as ``pytest --collect-only -q`` lists them."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [line for line in result.stdout.splitlines() if "::" in line]


def _selected(nodeids: list[str], expression: str) -> list[str]:
    """The ids ``-k expression`` selects: pytest's own expression, matched as pytest matches.

    ``-k`` matches a name when it is a case-insensitive substring of the test's name (with its
    parameters) or of a name above it (class, module file, folders).
    """
    compiled = Expression.compile(expression)
    chosen = []
    for nodeid in nodeids:
        path, *names = nodeid.split("::")
        words = [w.lower() for w in [*path.split("/"), *names]]
        if compiled.evaluate(lambda ident, /, **_: any(ident.lower() in w for w in words)):
            chosen.append(nodeid)
    return chosen


@pytest.fixture(scope="module")
def derivation_commands():
    sections = [s for s in _generator().sections(_page()) if s.commands]
    paths = sorted({path for s in sections for paths, _ in s.commands for path in paths})
    return sections, _nodeids(paths)


def test_every_pytest_command_selects_its_rows(derivation_commands):
    """Each section's ``pytest -k`` command selects tests, every row it names and no other's."""
    sections, nodeids = derivation_commands
    all_rows = {r for s in sections for r in s.rows}
    for section in sections:
        for paths, expression in section.commands:
            under = [n for n in nodeids if n.startswith(tuple(paths))]
            chosen = _selected(under, expression)
            assert chosen, f"{section.title}: -k {expression!r} selects no test under {paths}"
            ids = "\n".join(chosen)
            unchecked = [r for r in section.rows if f"[{r}-" not in ids and f"[{r}]" not in ids]
            assert not unchecked, f"{section.title}: -k {expression!r} misses rows {unchecked}"
            if section.rows:  # a layer's command runs no row of another layer, no fast kernel
                foreign = [
                    n
                    for n in chosen
                    if ("winograd" in n and "winograd" not in expression)
                    or any(f"[{r}-" in n or f"[{r}]" in n for r in all_rows - set(section.rows))
                ]
                assert not foreign, f"{section.title}: -k {expression!r} runs {foreign[:3]}"


def test_the_selection_is_pytests(derivation_commands):
    """The matcher above selects what ``pytest -k`` itself selects (on one command)."""
    sections, nodeids = derivation_commands
    section = next(s for s in sections if s.title == "Batch normalisation")
    paths, expression = section.commands[0]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *paths,
            "-k",
            expression,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    by_pytest = [line for line in result.stdout.splitlines() if "::" in line]
    assert by_pytest and by_pytest == _selected(nodeids, expression)


def test_the_derivation_checks_can_fail():
    gen = _generator()
    page = _page()
    start = page.index("## Layer normalisation")
    without_layernorm = page[:start] + page[page.index("## Spatial batch norm") :]
    assert any("layernorm_backward" in p for p in gen.problems(without_layernorm))
    assert any("no_such_row" in p for p in gen.problems(page.replace("`tanh`", "`no_such_row`")))
    ids = ["tests/a/test_x.py::test_one[affine/2d-1]", "tests/a/test_y.py::test_two[relu]"]
    assert _selected(ids, "affine") == ids[:1]
    assert _selected(ids, "test_y") == ids[1:]
    assert _selected(ids, "tanh") == []


# --- every name and link in the prose exists ------------------------------------------------------

PAGES = sorted([ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# a repository path: a file with an extension, or a folder written with its trailing slash
PATH = re.compile(
    r"(?<![\w/.-])((?:numnet|bench|tests|scripts|docs)/(?:[\w.-]+/)*(?:[\w-]+\.\w+)?)(?!\w)"
)
OUTPUTS = ("bench/results/",)  # written by the commands the pages describe, not in the repository
DOTTED = re.compile(r"`(numnet(?:\.\w+)+)")


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's rule) gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    headings = {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}
    return headings | set(re.findall(r'<a id="([\w-]+)"></a>', text))


def _resolve(dotted: str) -> bool:
    """Whether ``numnet.a.b.c`` names a module, or an attribute reached from the longest module."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_pages_exist():
    assert {_page_id(p) for p in PAGES} >= {
        "README.md",
        "docs/design.md",
        "docs/tour.md",
        "docs/performance.md",
    }


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_links_stay_in_the_repository_and_resolve(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        assert "://" not in target and not target.startswith("/"), (
            f"{_page_id(page)} links outside the repository: {target}"
        )
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.is_relative_to(ROOT), f"{_page_id(page)}: {target} leaves the repository"
        assert linked.exists(), f"{_page_id(page)}: {target} does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{_page_id(page)}: no heading for #{anchor}"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_file_path_named_exists(page):
    text = page.read_text(encoding="utf-8")
    named = {p for p in PATH.findall(text) if not p.startswith(OUTPUTS)}
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{_page_id(page)} names files that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_dotted_numnet_name_exists(page):
    names = set(DOTTED.findall(page.read_text(encoding="utf-8")))
    missing = sorted(name for name in names if not _resolve(name))
    assert not missing, f"{_page_id(page)} names what numnet does not have: {missing}"


def test_the_checks_can_fail(tmp_path):
    assert not _resolve("numnet.functional.conv.no_such_function")
    assert not _resolve("numnet.no_such_module")
    assert _resolve("numnet.functional.conv.conv_forward")
    assert PATH.findall("see `numnet/kernels/plan.py`, numnet/nn/ (not numnet/torch)") == [
        "numnet/kernels/plan.py",
        "numnet/nn/",
    ]
    assert _slug("Winograd F(2x2, 3x3) convolution (`nn.Conv2d`)") == (
        "winograd-f2x2-3x3-convolution-nnconv2d"
    )


# --- numbers stay out of the prose ---------------------------------------------------------------

TIMING = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|min|seconds?|minutes?|GFLOP/s)\b")
COMMIT = re.compile(r"\bcommits? [0-9a-f]{7,40}\b")


def test_readme_quotes_no_timings_or_commits():
    """Measured figures live in docs/performance.md and the bench output, not in the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not TIMING.findall(text), TIMING.findall(text)
    assert not COMMIT.findall(text)


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_no_commit_hashes(page):
    assert not COMMIT.findall(page.read_text(encoding="utf-8"))
