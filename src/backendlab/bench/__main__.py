"""``python -m backendlab.bench run [--full|--quick] [--out PATH]``, ``... plot [--results PATH]`` and
``... attribution [--out PATH]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backendlab.bench.runner import (
    DEFAULT_OUT,
    PROFILES,
    expected_seconds,
    load_results,
    run_benchmark,
    worst_case_seconds,
    write_results,
)
from backendlab.contract_apps import FRAMEWORKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backendlab.bench", description="Backend Lab benchmark harness")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the benchmark, write the results file and its plots")
    size = run.add_mutually_exclusive_group()
    size.add_argument("--full", dest="profile", action="store_const", const="full",
                      help="the full run (make bench): 3 interleaved rounds of 2 s measurements, about 8 minutes")
    size.add_argument("--quick", dest="profile", action="store_const", const="quick",
                      help="a sanity run in seconds: every framework at concurrency 8 for 0.5 s")
    run.set_defaults(profile="standard")  # 2 rounds of 1 s measurements, about 4 minutes
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results file (default {DEFAULT_OUT})")
    run.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="comma-separated subset")
    run.add_argument("--no-wrk", action="store_true", help="skip wrk even if it is on PATH")
    run.add_argument("--no-plots", action="store_true", help="write the results file only")
    plot = commands.add_parser("plot", help="redraw the PNG plots from a results file")
    plot.add_argument("--results", type=Path, default=DEFAULT_OUT)
    attribution = commands.add_parser("attribution", help="the attribution experiments (uvloop, httptools, "
                                      "Starlette, ...), written to their own results file")
    attribution.add_argument("--out", type=Path, default=None,
                             help="results file (default notebooks/benchmark_results/attribution.json)")
    args = parser.parse_args(argv)

    if args.command == "attribution":
        return run_attribution_command(args.out)
    if args.command == "plot":
        from backendlab.bench.plots import save_plots

        for path in save_plots(load_results(args.results), args.results.parent):
            print(f"wrote {path}")
        return 0

    frameworks = [f for f in args.frameworks.split(",") if f]
    profile = PROFILES[args.profile]
    use_wrk = False if args.no_wrk else None
    bound = worst_case_seconds(profile, frameworks, wrk=not args.no_wrk)
    expected = expected_seconds(profile, frameworks, wrk=not args.no_wrk)
    print(f"{profile.name} run of {len(frameworks)} frameworks: about {expected / 60:.1f} min, "
          f"at most {bound / 60:.1f} min", file=sys.stderr)
    results = run_benchmark(profile, frameworks, use_wrk=use_wrk)
    out = write_results(results, args.out)
    print(f"wrote {out}")
    if not args.no_plots:
        from backendlab.bench.plots import save_plots

        for path in save_plots(results, out.parent):
            print(f"wrote {path}")
    failed = [key for key, entry in results["implementations"].items() if not entry.get("correct")]
    if failed:
        print(f"did not start or answered wrongly: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def run_attribution_command(out: Path | None) -> int:
    from backendlab.bench import attribution

    expected = attribution.expected_seconds()
    print(f"attribution run: {len(attribution.VARIANTS)} servers, {attribution.ATTRIBUTION.rounds} rounds, "
          f"about {expected / 60:.1f} min", file=sys.stderr)
    results = attribution.run_attribution()
    print(f"wrote {attribution.write(results, out or attribution.DEFAULT_OUT)} in {results['elapsed_s']:.0f} s")
    failed = [key for key, entry in results["variants"].items() if not entry.get("correct")]
    if failed:
        print(f"did not start or answered wrongly: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
