"""How commands print: readable tables, or JSON for scripts (`--json`), and times in ISO 8601 UTC."""

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn


class Parser(argparse.ArgumentParser):
    """argparse, but a refusal is one line on stderr and exit status 2, as every other refusal is.

    argparse's own refusal prints the whole usage first; a script's log then shows a screenful
    where one line says what was wrong (`--help` still prints the usage).
    """

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def limit(maximum: int) -> Callable[[str], int]:
    """The type of a `--limit` option: a whole number from 1 to MAXIMUM, refused otherwise.

    A negative or absurd limit is a typo, not a request for "everything" or "nothing".
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be between 1 and {maximum}, not {value}")
        return value

    return parse


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def print_rows(rows: list[dict[str, Any]], columns: list[str], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows, columns)


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    cells = [[str(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
