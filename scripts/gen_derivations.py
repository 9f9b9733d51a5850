"""Check docs/derivations.md against numnet, and write its index.

The page is written by hand (rendered maths, derivations step by step); this script keeps it
true to the code. It checks that every public backward pass and loss of :mod:`numnet.layers` is
named on the **Code:** line of a section (and has an ``<a id="name">`` anchor there, so that
links to the function keep working), that every row id on a **Rows:** line is a row of the
layer table (:mod:`numnet.layer_table`), and that every section says how to run its tests
(a ``python -m pytest ... -k "..."`` command). It then rewrites the index between the
``<!-- index -->`` markers from the sections' headings and **Code:** lines.

``python scripts/gen_derivations.py`` prints what is wrong (exit status 1) or rewrites the index;
``--readme`` prints the README's "find your way" table (layer, derivation, code, test), which
``tests/test_docs.py`` requires README.md to hold as printed.
``tests/test_docs.py`` runs the same checks, and also collects every command's tests.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "derivations.md"
INDEX_START, INDEX_END = "<!-- index -->", "<!-- /index -->"

HEADING = re.compile(r"^## (.+)$", re.M)
CODE_LINE = re.compile(r"^\*\*Code:\*\* (.+)$", re.M)
ROWS_LINE = re.compile(r"^\*\*Rows:\*\* (.+)$", re.M)
COMMAND = re.compile(r'`python -m pytest ([^`"]+?) -k "([^"`]+)"`')
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
NAME = re.compile(r"`([A-Za-z_]\w*)`")
ROW = re.compile(r"`([\w.]+/[^`\s]+|[a-z_]+)`")
UNINDEXED = ("Index",)


@dataclass
class Section:
    """One ``## `` section of the page: what it names and how it is checked."""

    title: str
    body: str
    functions: list[str] = field(default_factory=list)
    code_links: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    rows_links: list[str] = field(default_factory=list)
    commands: list[tuple[list[str], str]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The anchor a Markdown renderer (GitHub's rule) gives the heading."""
        return re.sub(r"[^\w\- ]", "", self.title.strip().lower()).replace(" ", "-")


def sections(text: str) -> list[Section]:
    """The page's ``## `` sections, in order, with their Code, Rows and command lines parsed."""
    heads = list(HEADING.finditer(text))
    out = []
    for head, nxt in zip(heads, [*heads[1:], None], strict=True):
        body = text[head.end() : nxt.start() if nxt else len(text)]
        section = Section(head.group(1).strip(), body)
        for line in CODE_LINE.findall(body):
            section.code_links += LINK.findall(line)
            section.functions += NAME.findall(LINK.sub("", line))
        for line in ROWS_LINE.findall(body):
            section.rows_links += LINK.findall(line)
            rows = ROW.findall(LINK.sub("", line))
            section.rows += [
                r for r in rows if "/" in r or not r.endswith(("_forward", "_backward"))
            ]
        section.commands = [(paths.split(), expr) for paths, expr in COMMAND.findall(body)]
        out.append(section)
    return out


def public_backwards() -> list[str]:
    """Every backward pass and loss that :mod:`numnet.layers` exports."""
    import numnet.layers as layers

    return [n for n in layers.__all__ if "_backward" in n or n.endswith("_loss")]


def table_rows() -> set[str]:
    """The ids of every row of the layer table (reference and kernel rows)."""
    from numnet.layer_table import ROWS

    return {row.id for row in ROWS}


def problems(text: str) -> list[str]:
    """What the page gets wrong about numnet, one line each; empty when it is true."""
    found = []
    secs = [s for s in sections(text) if s.title not in UNINDEXED]
    named = {name for s in secs for name in s.functions}
    found += [
        f"no section names {name} on its **Code:** line"
        for name in public_backwards()
        if name not in named
    ]
    found += [
        f'no <a id="{name}"></a> anchor (links to the function)'
        for name in public_backwards()
        if name != "batchnorm_backward_alt" and f'<a id="{name}">' not in text
    ]
    known = table_rows()
    for s in secs:
        if not s.code_links:
            found.append(f"section {s.title!r} has no **Code:** line with a link")
        if not s.commands:
            found.append(f'section {s.title!r} has no `python -m pytest ... -k "..."` command')
        found += [
            f"section {s.title!r} names row {r!r}, not in the layer table"
            for r in s.rows
            if r not in known
        ]
    return found


def index(text: str) -> str:
    """The index table: one line per section, linking the section and its code."""
    lines = ["| Section | Functions | Code |", "| --- | --- | --- |"]
    for s in sections(text):
        if s.title in UNINDEXED:
            continue
        functions = ", ".join(f"`{n}`" for n in s.functions if not n.startswith("_"))
        code = ", ".join(
            f"[`{Path(target).name}`]({target})" for target in dict.fromkeys(s.code_links)
        )
        lines.append(f"| [{s.title}](#{s.anchor}) | {functions} | {code} |")
    return "\n".join(lines)


def find_your_way(text: str) -> str:
    """The README's "find your way" table: layer -> derivation -> code -> rows and command.

    Links are relative to the repository root (where README.md lives).
    """
    lines = [
        "| layer | derivation | code | test: rows of the layer table, and the command for them |",
        "| --- | --- | --- | --- |",
    ]
    for s in sections(text):
        if s.title in UNINDEXED or not s.commands:
            continue
        code = ", ".join(
            f"[`{Path(target).name}`]({target.removeprefix('../')})"
            for target in dict.fromkeys(s.code_links)
        )
        public = [n for n in s.functions if not n.startswith("_")]
        functions = " ".join(f"`{n}`" for n in public if "_backward" in n or n.endswith("_loss"))
        table = (s.rows_links or ["../numnet/layer_table/kernel_rows.py"])[0].removeprefix("../")
        count = len(s.rows)
        rows = f"{count} row{'s' * (count != 1)}" if s.rows else "kernel rows"
        commands = "; ".join(f'`pytest {" ".join(p)} -k "{e}"`' for p, e in s.commands)
        link = f"[derivation](docs/derivations.md#{s.anchor})"
        code = f"{code} {functions}".strip()
        lines.append(f"| {s.title} | {link} | {code} | [{rows}]({table}): {commands} |")
    return "\n".join(lines)


def with_index(text: str) -> str:
    """``text`` with the block between the index markers replaced by :func:`index`."""
    start, end = text.index(INDEX_START) + len(INDEX_START), text.index(INDEX_END)
    return text[:start] + "\n" + index(text) + "\n" + text[end:]


def main() -> int:
    text = TARGET.read_text(encoding="utf-8")
    if sys.argv[1:] == ["--readme"]:
        print(find_your_way(text))
        return 0
    found = problems(text)
    if found:
        print("\n".join(found), file=sys.stderr)
        return 1
    TARGET.write_text(with_index(text), encoding="utf-8")
    print(f"{TARGET.relative_to(ROOT)}: every backward has a section; index rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
