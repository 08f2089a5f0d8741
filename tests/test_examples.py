"""Every gallery example runs to the end in smoke mode (small data, few epochs).

The examples run one after the other in a single subprocess, each as ``__main__`` with its own
globals, as sphinx-gallery runs them: importing torch, scikit-learn and matplotlib once instead
of once per example keeps the whole file within its time budget on 2 CPU cores.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").rglob("plot_*.py"))

# Prints one line per example: "RESULT" and a JSON object with its path, seconds and traceback.
RUNNER = """
import json, runpy, sys, time, traceback
import matplotlib.pyplot as plt
for path in sys.argv[1:]:
    start = time.perf_counter()
    error = None
    try:
        runpy.run_path(path, run_name="__main__")
    except BaseException:
        error = traceback.format_exc()
    plt.close("all")
    seconds = time.perf_counter() - start
    print("RESULT " + json.dumps({"path": path, "seconds": seconds, "error": error}), flush=True)
"""


@pytest.fixture(scope="module")
def reports():
    """Run every example once; map each path to its report, plus the runner's stderr."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env.update(
        SKDEEPCLUST_SMOKE="1",
        MPLBACKEND="Agg",
        # The examples import skdeepclust from this checkout, installed or not.
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    # Idle OpenMP threads sleep instead of spinning: on 2 busy cores the spinning made the
    # small batches of smoke mode 5 to 10 times slower (measured: 90-230 s against 20 s).
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    run = subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, EXAMPLES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    prefix = "RESULT "
    lines = [line[len(prefix) :] for line in run.stdout.splitlines() if line.startswith(prefix)]
    return {report["path"]: report for report in map(json.loads, lines)}, run.stderr


def test_examples_are_found():
    assert len(EXAMPLES) >= 17


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_in_smoke_mode(reports, path):
    by_path, stderr = reports
    report = by_path.get(str(path))
    assert report is not None, f"{path.name} did not report; the runner died:\n{stderr[-3000:]}"
    assert report["error"] is None, f"{path.name} failed:\n{report['error']}"
