"""The docs stay true: the derivations page is current, every link, file path and ``numnet.`` name
named in README.md, bench/README.md and docs/*.md exists, and no timings or commit hashes sit in
the prose (they belong in docs/performance.md and the bench output)."""

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

import numnet.layers as layers

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_derivations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_derivations_page_is_current():
    gen = _generator()
    assert (ROOT / "docs" / "derivations.md").read_text(encoding="utf-8") == gen.render(), (
        "docs/derivations.md is stale: run python scripts/gen_derivations.py"
    )


def test_every_backward_carries_a_derivation():
    gen = _generator()
    for name in layers.__all__:
        if name.endswith("_backward") or name.endswith("_loss"):
            notes = gen._notes(getattr(layers, name).__doc__ or "")
            assert len(notes) > 40, f"{name} has no derivation in its Notes section"


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
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


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
