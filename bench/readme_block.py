"""Replace a generated block of README.md between `<!-- <name>:start -->` and `:end -->`."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def write_readme_block(name: str, block: str, readme: Path = README) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text(encoding="utf-8")
    if start not in text:
        raise SystemExit(f"{readme.name} has no {start} … {end} block to replace")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{block}{end}{tail}", encoding="utf-8")
