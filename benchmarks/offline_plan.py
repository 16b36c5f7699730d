"""Time the offline plan of a stack, as a user runs it (a fresh process each time, venv ready).

    venv/bin/python -m benchmarks.offline_plan [--stack dev] [--runs 5]

Prints wall time per run (median, min, max), the resource count, and which azure-native submodules
the program actually executed (the package registers ~257 lazily; touching all costs ~14 s).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import sys, time; t = time.perf_counter();"
    "from tools.offline_plan import plan_stack; plan = plan_stack({stack!r});"
    "loaded = sorted({{m.split('.')[1] for m, mod in list(sys.modules.items())"
    " if m.startswith('pulumi_azure_native.') and type(mod).__name__ != '_LazyModule'}});"
    "print(__import__('json').dumps({{'resources': len(plan.resources), 'loaded': loaded,"
    " 'in_process_s': time.perf_counter() - t}}))"
)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.offline_plan")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    walls = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "tools.offline_plan", "--stack", args.stack, "--out", out],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            walls.append(time.perf_counter() - started)
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(stack=args.stack)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    facts = json.loads(probe.stdout.strip().splitlines()[-1])
    print(f"offline plan of {args.stack!r}: {facts['resources']} resources, {args.runs} runs")
    print(
        f"  wall per run (fresh process): median {statistics.median(walls):.2f} s,"
        f" min {min(walls):.2f} s, max {max(walls):.2f} s"
    )
    print(f"  in-process (imports + plan): {facts['in_process_s']:.2f} s")
    print(f"  azure-native submodules executed ({len(facts['loaded'])}): {', '.join(facts['loaded'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
