"""Summarise a mutmut run (``make mutate``) as ``mutation-report.md``: per module, the mutants made,
killed (a test failed or timed out) and survived, and every survivor by name with its diff.

    mutmut run; python -m backendlab.mutation_report mutation-report.md
"""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

KILLED = {"killed", "timeout"}
MAX_LISTED = 100  # survivors of a module shown one by one, with their diff


def results(mutmut: str = "mutmut") -> dict[str, str]:
    """mutant name -> status, from ``mutmut results --all true``."""
    out = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            found[name] = status
    return found


def module_of(mutant: str) -> str:
    return mutant.split(".x_")[0] if ".x_" in mutant else mutant.split(".xǁ")[0]


EQUIVALENT = Path("tests/mutation-equivalents.txt")


def equivalents(path: Path = EQUIVALENT) -> dict[str, str]:
    """Survivors judged equivalent: ``mutant name: why no test can tell it from the original``."""
    if not path.exists():
        return {}
    pairs = (line.split(": ", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {name.strip(): reason.strip() for name, reason in pairs}


def render(found: dict[str, str], mutmut: str = "mutmut") -> str:
    equivalent = equivalents()
    per_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, status in found.items():
        per_module[module_of(name)]["killed" if status in KILLED else status] += 1
    lines = ["# Mutation testing report", "", "Written by `make mutate` (mutmut, configured in `pyproject.toml`).", "",
             "| module | mutants | killed | survived | score |", "|---|---|---|---|---|"]
    for module, counts in sorted(per_module.items()):
        total = sum(counts.values())
        lines.append(f"| `{module}` | {total} | {counts['killed']} | {counts['survived']} | "
                     f"{100 * counts['killed'] // total}% |")  # rounded down: 100% only when none survived
    survivors = sorted(name for name, status in found.items() if status == "survived")
    lines += ["", f"## Surviving mutants ({len(survivors)})", ""]
    by_module = collections.Counter(module_of(name) for name in survivors)
    crowded = {module for module, count in by_module.items() if count > MAX_LISTED}
    for module in sorted(crowded):
        per_function = collections.Counter(name.split(".x")[-1].split("__mutmut")[0] for name in survivors
                                           if module_of(name) == module)
        lines += [f"`{module}`: {by_module[module]} survivors, too many to list one by one; by function: "
                  + ", ".join(f"`{fn.strip('_ǁ')}` {n}" for fn, n in per_function.most_common()) + ".", ""]
    for name in (n for n in survivors if module_of(n) not in crowded):
        diff = subprocess.run([mutmut, "show", name], capture_output=True, text=True).stdout
        changed = [line for line in diff.splitlines()
                   if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))]
        reason = equivalent.get(name, "NOT JUDGED: kill it with a test or give the reason it is equivalent")
        lines += [f"- `{name}`: {reason}", "  ```diff", *(f"  {line}" for line in changed[:4]), "  ```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "mutation-report.md")
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    target.write_text(render(results(mutmut), mutmut))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
