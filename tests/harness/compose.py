"""What the tests take from compose.yaml, so that a test lab runs the
compose lab's settings rather than copies of them: a service's `command:`
list, its `environment:` map and its `image:`, with `${VAR:-default}`
interpolated as compose does it.

  services(text)           {service: {"command": [...], "environment": {...},
                           "image": str, "profiles": [...]}} of a compose
                           file (read by PyYAML)
  interpolate(value, env)  ${VAR}, ${VAR:-default}, ${VAR-default}, $$

Only the shapes compose.yaml uses are read: a list under `command:`, a
`KEY: value` map under `environment:`, a list under `profiles:` (empty for
a service every `compose up` starts); anything else under those keys
(`KEY=value` items, a command string) is refused.
"""

import os
import re

import yaml

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


def services(text, env=None):
    """The services of a compose file: their command list, environment map
    and image, interpolated, and their profiles. Values compose leaves to the shell (`KEY:` with
    nothing after it) come out as None."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise Failure(f"compose file: not YAML: {e}") from None
    out = {}
    for name, service in (doc.get("services") or {}).items():
        service = service or {}
        command = service.get("command", [])
        if not isinstance(command, list):
            raise Failure(f"compose service {name}: command is read as a list, not {command!r}")
        environment = service.get("environment", {})
        if not isinstance(environment, dict):
            raise Failure(f"compose service {name}: environment is read as a KEY: value map, "
                          f"not {environment!r}")
        image = service.get("image")
        out[name] = {
            "command": [interpolate(str(a), env) for a in command],
            "environment": {k: None if v is None else interpolate(str(v), env)
                            for k, v in environment.items()},
            "image": None if image is None else interpolate(str(image), env),
            "profiles": [str(p) for p in service.get("profiles") or []],
        }
    return out
