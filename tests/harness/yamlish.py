"""The little YAML the lab's provisioning files use, read without a YAML
library (the harness keeps to the standard library): block mappings and
sequences by indentation, `#` comments, and scalars (plain or quoted
strings, integers, floats, true/false, null). Anything else (flow `{}`/`[]`
collections, block scalars `|` `>`, anchors, tags, several documents) is
refused with its line, rather than read wrong.
"""

import json
import re

from . import Failure

_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")


def load(text, name="<yaml>"):
    """The document of `text` as dicts, lists and scalars."""
    lines = []
    for n, raw in enumerate(text.split("\n"), 1):
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            raise Failure(f"{name}:{n}: a tab in the indentation")
        body = _strip_comment(raw, f"{name}:{n}").rstrip()
        if body.strip() in ("---", "..."):
            raise Failure(f"{name}:{n}: document markers are not supported")
        if body.strip():
            lines.append([n, len(body) - len(body.lstrip(" ")), body.strip()])
    if not lines:
        return None
    value, i = _block(lines, 0, lines[0][1], name)
    if i != len(lines):
        raise Failure(f"{name}:{lines[i][0]}: unexpected indentation")
    return value


def _strip_comment(line, where):
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"" and (i == 0 or line[i - 1] in " :-[{,"):
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    if quote:
        raise Failure(f"{where}: unterminated string")
    return line


def _is_item(text):
    return text == "-" or text.startswith("- ")


def _block(lines, i, indent, name):
    if _is_item(lines[i][2]):
        return _sequence(lines, i, indent, name)
    return _mapping(lines, i, indent, name)


def _mapping(lines, i, indent, name):
    out = {}
    while i < len(lines) and lines[i][1] == indent and not _is_item(lines[i][2]):
        n, _, text = lines[i]
        m = _KEY.match(text)
        if not m:
            raise Failure(f"{name}:{n}: expected `key: value`, got {text!r}")
        key, rest = m.group(1), m.group(2)
        if key in out:
            raise Failure(f"{name}:{n}: key {key!r} given twice")
        i += 1
        if rest:
            out[key] = _scalar(rest, f"{name}:{n}")
        elif i < len(lines) and lines[i][1] > indent:
            out[key], i = _block(lines, i, lines[i][1], name)
        elif i < len(lines) and lines[i][1] == indent and _is_item(lines[i][2]):
            out[key], i = _sequence(lines, i, indent, name)
        else:
            out[key] = None
    if i < len(lines) and lines[i][1] > indent:
        raise Failure(f"{name}:{lines[i][0]}: unexpected indentation")
    return out, i


def _sequence(lines, i, indent, name):
    out = []
    while i < len(lines) and lines[i][1] == indent and _is_item(lines[i][2]):
        n, _, text = lines[i]
        rest = text[1:].lstrip()
        if not rest:
            i += 1
            if i < len(lines) and lines[i][1] > indent:
                item, i = _block(lines, i, lines[i][1], name)
            else:
                item = None
        elif _KEY.match(rest) or _is_item(rest):
            # `- key: value`: a mapping (or a sequence) whose first line
            # starts after the dash; its next lines sit at that column.
            lines[i] = [n, indent + len(text) - len(rest), rest]
            item, i = _block(lines, i, lines[i][1], name)
        else:
            item, i = _scalar(rest, f"{name}:{n}"), i + 1
        out.append(item)
    return out, i


def _scalar(text, where):
    if text[0] in "{[|>&*!%@`":
        raise Failure(f"{where}: {text!r}: only block mappings, sequences and scalars are supported")
    if text[0] == '"':
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise Failure(f"{where}: bad double-quoted string {text!r}") from e
    if text[0] == "'":
        if len(text) < 2 or text[-1] != "'":
            raise Failure(f"{where}: bad single-quoted string {text!r}")
        return text[1:-1].replace("''", "'")
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if text in ("null", "Null", "NULL", "~"):
        return None
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if ": " in text or text.endswith(":"):
        raise Failure(f"{where}: {text!r}: a mapping inside a plain scalar")
    return text
