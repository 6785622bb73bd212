"""The one reader of JSON that arrives in a request: the inbox's activities and the client API's bodies.

Python's `json` accepts documents that break the code after it: a key given twice (which value wins
is the reader's choice, so two readers can disagree about one activity), nesting deep enough to
exhaust the interpreter's stack, numbers of thousands of digits (Python refuses to convert them with
a ValueError of its own) or out of float range, NaN, and lone surrogates that no database can store.
Every such body is refused here with 400 and a one-line reason, before any handler sees it.
"""

import json
from typing import Any

from ..errors import BadRequest

MAX_DEPTH = 64  # Mastodon's deepest documents nest about 6 levels
MAX_NUMBER_DIGITS = 40  # an int64 id has 19 digits; a float's 17 significant digits and exponent fit


class _Refused(ValueError):
    """Raised inside the decoder's hooks; the message is the client's one-line reason."""


def parse_json(data: bytes | str) -> Any:
    """The document in DATA, or BadRequest with the reason it is refused."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the body is not valid UTF-8") from None
    try:
        document = json.loads(
            data,
            object_pairs_hook=_object,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except _Refused as exc:
        raise BadRequest(str(exc)) from None
    except RecursionError:
        raise BadRequest(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None
    _check_shape(document)
    return document


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"the key {key[:40]!r} appears twice in one object")
        result[key] = value
    return result


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _Refused(f"a number in the body has more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _Refused(f"a number in the body has more than {MAX_NUMBER_DIGITS} digits")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused("a number in the body is out of range")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _check_shape(document: Any) -> None:
    """Depth, and text that can be stored: no lone surrogates, no NUL (PostgreSQL refuses both)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
        elif isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                raise BadRequest(f"the body is nested deeper than {MAX_DEPTH} levels")
            if isinstance(node, dict):
                for key, value in node.items():
                    _check_text(key)
                    stack.append((value, depth + 1))
            else:
                stack.extend((value, depth + 1) for value in node)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise BadRequest("the body contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("the body contains invalid Unicode (a lone surrogate)") from None
