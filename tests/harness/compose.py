"""What the tests take from compose.yaml, so that a test lab runs the
compose lab's settings rather than copies of them: a service's `command:`
list, its `environment:` map and its `image:`, with `${VAR:-default}`
interpolated as compose does it.

  services(text)           {service: {"command": [...], "environment": {...},
                           "image": str}} of a compose file (plain YAML of
                           the compose file's shape, read line by line)
  interpolate(value, env)  ${VAR}, ${VAR:-default}, ${VAR-default}, $$

Only the shapes compose.yaml uses are read: block lists of plain or quoted
scalars under `command:` (or a JSON-style flow list), `KEY: value` maps under
`environment:`; anything else under those keys (`KEY=value` items, a
command string) is refused.
"""

import json
import os
import re

from . import Failure

_VAR = re.compile(r"\$\$"
                  r"|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}"
                  r"|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value, env=None):
    """value with compose's variable syntax resolved from env (default: the
    process environment). `:-` uses the default when the variable is unset
    or empty, `-` only when unset."""
    env = os.environ if env is None else env

    def one(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        have = env.get(name)
        if m.group(2) == ":-":
            return have if have else m.group(3)
        if m.group(2) == "-":
            return m.group(3) if have is None else have
        return have or ""

    return _VAR.sub(one, value)


def _scalar(text):
    """A YAML scalar: quoted (a comment may follow) or plain (a ` #` starts
    a comment)."""
    text = text.strip()
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        if end > 0:
            return text[1:end]
    return re.sub(r"\s+#.*$", "", text)


def services(text, env=None):
    """The services of a compose file: their command list, environment map
    and image, interpolated. Values compose leaves to the shell (`KEY:` with
    nothing after it) come out as None."""
    out, service, key, in_services = {}, None, None, False
    for n, raw in enumerate(text.split("\n"), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        if indent == 0:
            in_services = line == "services:"
            service = None
            continue
        if not in_services:
            continue
        if indent == 2:
            service = line.rstrip(":")
            out[service] = {"command": [], "environment": {}, "image": None}
            key = None
            continue
        if indent == 4:
            name, _, rest = line.partition(":")
            key = name
            if name == "image":
                out[service]["image"] = interpolate(_scalar(rest), env)
            elif name == "command" and rest.strip():
                try:
                    items = json.loads(rest.strip())
                except json.JSONDecodeError:
                    items = None
                if not isinstance(items, list):
                    raise Failure(f"compose line {n}: command is read as a list, "
                                  f"not {rest.strip()!r}")
                out[service]["command"] = [interpolate(str(i), env) for i in items]
            elif name == "environment" and rest.strip():
                raise Failure(f"compose line {n}: environment is read as a block, "
                              f"not {rest.strip()!r}")
            continue
        if key == "command" and indent >= 6:
            if not line.startswith("- "):
                raise Failure(f"compose line {n}: a command item should start with '- '")
            out[service]["command"].append(interpolate(_scalar(line[2:]), env))
        elif key == "environment" and indent == 6:
            name, sep, value = line.partition(":")
            if not sep or line.startswith("- "):
                raise Failure(f"compose line {n}: environment is read as a KEY: value map")
            value = value.strip()
            out[service]["environment"][name] = interpolate(_scalar(value), env) if value else None
    return out
