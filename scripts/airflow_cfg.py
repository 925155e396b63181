"""Set options in an airflow.cfg in place: `python scripts/airflow_cfg.py FILE section.option=value ...`.

`make run` writes the folders, executor and API address it uses into `.airflow/airflow.cfg`, so an
`airflow` command that only knows AIRFLOW_HOME sees the same set-up as `source scripts/env.sh`.
Only the named options' lines change; comments, the generated secrets and every other option stay.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def set_options(text: str, values: dict[tuple[str, str], str]) -> str:
    lines = text.splitlines()
    pending = dict(values)
    section, out = None, []
    for line in lines:
        header = re.match(r"^\[([^\]]+)\]\s*$", line)
        if header:
            out += _missing(section, pending)
            section = header.group(1)
        else:
            option = re.match(r"^([A-Za-z0-9_]+)\s*=", line)
            if option and (section, option.group(1)) in pending:
                line = f"{option.group(1)} = {pending.pop((section, option.group(1)))}"
        out.append(line)
    out += _missing(section, pending)
    for (name, option), value in sorted(pending.items()):  # sections the file does not have yet
        out += ["", f"[{name}]", f"{option} = {value}"]
    return "\n".join(out) + "\n"


def _missing(section: str | None, pending: dict[tuple[str, str], str]) -> list[str]:
    """Options of `section` that no line held: appended at the section's end."""
    found = [key for key in pending if key[0] == section]
    return [f"{option} = {pending.pop((name, option))}" for name, option in sorted(found)]


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(argv[0])
    values = {}
    for item in argv[1:]:
        key, _, value = item.partition("=")
        section, _, option = key.partition(".")
        if not section or not option or not _:
            print(f"airflow_cfg.py: expected section.option=value, got {item!r}", file=sys.stderr)
            return 2
        values[(section, option)] = value
    path.write_text(set_options(path.read_text() if path.exists() else "", values))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
