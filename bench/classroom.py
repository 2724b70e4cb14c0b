"""A class on one server: N learners run the views-field lesson at once, each in its own process and workspace.

Run: ``make bench-classroom`` (N = 1, 10 and 30 in lockstep, and 30 paced;
writes the classroom section of bench/results.md), or
``.venv/bin/python bench/classroom.py --learners 10 --mode lockstep`` for one run, printed only.

Each learner is a fresh Python process, as a kernel on a JupyterHub would be,
with its own workspace. It imports the kit (timed apart as "kernel start"), then
runs the lesson through the API and the panel: ``Sandbox.fresh``, the edit and
``makemigrations``, ``migrate``, the three views (schema, graph,
``django_migrations``), a panel refresh, and a rollback in the panel (preview,
confirm, refresh). In *lockstep* every learner starts each action at the same
moment (a barrier); in *paced* mode each waits 10 to 20 s at random before
each action, as a class following a teacher does. The script reports p50, p95
and max per action, the wall time, failures, and each learner's peak memory:
the learner process (its peak resident set) plus its kit workers (the zygote and
warm Django processes, proportional set size, so pages shared by fork are
counted once).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
START, END = "<!-- classroom:start -->", "<!-- classroom:end -->"
ACTIONS = [
    "kernel start (import widgets)",
    "Sandbox.fresh",
    "makemigrations",
    "migrate",
    "schema + graph + django_migrations views",
    "panel refresh",
    "panel: migrate back (preview, confirm, refresh)",
]
# Targets of the classroom issue, seconds, for the p95 of every action but the kernel start.
TARGETS = {("lockstep", 30): 3.0, ("lockstep", 10): 1.0, ("paced", 30): 1.0}
MEMORY_TARGET_MIB = 200


def _pss_mib(pid: int) -> float:
    """Return a process's proportional set size in MiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """Return a process's CPU time plus that of the children it has reaped (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def kit_cpu() -> float:
    """Return the CPU seconds this learner has used so far: its own, its zygote's and its warm Djangos'."""
    from widgets.run import worker

    own = os.times()
    pids = [p for p in [worker.zygote_pid(), *worker.warm_pids()] if p]
    return own.user + own.system + sum(_cpu_seconds(p) for p in pids)


def _peak_rss_mib() -> float:
    """Return this process's peak resident set in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Clock:
    """Time each action of one learner, waiting for the class before each one."""

    def __init__(self, barrier, mode: str, seed: int) -> None:
        self.barrier, self.mode = barrier, mode
        self.random = random.Random(seed)
        self.times: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.worker_mib = 0.0

    def wait_turn(self) -> None:
        if self.mode == "lockstep":
            self.barrier.wait(timeout=600)
        else:
            time.sleep(self.random.uniform(10, 20))

    def run(self, name: str, action):
        self.wait_turn()
        cpu, started = kit_cpu(), time.perf_counter()
        result = action()
        self.times[name] = time.perf_counter() - started
        # A warm Django that ended during the action takes its CPU time with it: a slight undercount.
        self.cpu[name] = kit_cpu() - cpu
        self.sample_workers()
        return result

    def sample_workers(self) -> None:
        """Remember the largest memory the kit's workers of this learner held after an action."""
        from widgets.run import worker

        pids = [p for p in [worker.zygote_pid(), *worker.warm_pids()] if p]
        self.worker_mib = max(self.worker_mib, sum(_pss_mib(p) for p in pids))


def lesson(clock: Clock) -> None:
    """Run the views-field lesson the way a learner does, through the API and the panel."""
    clock.wait_turn()
    started = time.perf_counter()
    from widgets import MigrationLab, Sandbox, draw_migration_graph, draw_schema, migrations_table, scenarios
    from widgets.draw.render import to_svg
    from widgets.run import worker
    from widgets.run.commands import child_env

    worker.worker(child_env())  # a kernel open for a few seconds has its pre-warmed worker ready
    clock.times[ACTIONS[0]] = time.perf_counter() - started
    sandbox = clock.run(ACTIONS[1], lambda: Sandbox.fresh("lesson"))
    before = sandbox.state()

    def makemigrations():
        sandbox.edit("boards/models.py", scenarios.STARTER_LINE, scenarios.STARTER_LINE + scenarios.VIEWS_LINE)
        return _ok(sandbox.makemigrations("boards"))

    clock.run(ACTIONS[2], makemigrations)
    clock.run(ACTIONS[3], lambda: _ok(sandbox.migrate()))

    def views():
        state = sandbox.state()
        to_svg(draw_schema(state, previous=before))
        to_svg(draw_migration_graph(sandbox))
        migrations_table(state, previous=before)

    clock.run(ACTIONS[4], views)
    lab = MigrationLab(sandbox, app_label="boards")
    clock.run(ACTIONS[5], lab.refresh)

    def roll_back():
        lab.run_action("migrate", target="0002_post")
        if lab.pending_rollback is None:
            raise RuntimeError("the panel did not show a rollback preview")
        lab.confirm(wait=True)
        if not lab.history or not lab.history[-1].ok:
            raise RuntimeError("the panel's rollback failed")

    clock.run(ACTIONS[6], roll_back)
    applied = set(sandbox.applied_migrations()["name"])
    if "0003_topic_views" in applied or "0002_post" not in applied:
        raise RuntimeError(f"the learner's database is wrong after the lesson: {sorted(applied)}")


def _ok(result):
    if not result.ok:
        raise RuntimeError(result.message)
    return result


def learner(index: int, workspace: str, mode: str, barrier, queue) -> None:
    """Run one learner in this process and put its times (or its failure) on the queue."""
    os.environ["MIGRATION_KIT_WORKSPACE"] = workspace
    clock = Clock(barrier, mode, seed=index)
    failure = None
    try:
        lesson(clock)
    except Exception:
        failure = traceback.format_exc(limit=3)
        if mode == "lockstep":
            barrier.abort()  # the others must not wait for this learner forever
    queue.put(
        {
            "times": clock.times,
            "cpu": clock.cpu,
            "failure": failure,
            "kernel_mib": _peak_rss_mib(),
            "worker_mib": clock.worker_mib,
        }
    )


def run_class(learners: int, mode: str) -> dict:
    """Start the learners at once, each in its own process and workspace; return their results."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each, as a kernel is
    barrier, queue = context.Barrier(learners), context.Queue()
    with tempfile.TemporaryDirectory(prefix="kit-classroom-") as root:
        started = time.perf_counter()
        processes = [
            context.Process(target=learner, args=(i, f"{root}/learner-{i:02d}", mode, barrier, queue))
            for i in range(learners)
        ]
        for process in processes:
            process.start()
        results = [queue.get(timeout=1800) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        wall = time.perf_counter() - started
    return {"learners": learners, "mode": mode, "wall": wall, "results": results}


def summarise(run: dict) -> dict:
    """Return p50, p95 and max per action, failures and memory for one class."""
    rows = {}
    for action in ACTIONS:
        times = sorted(r["times"][action] for r in run["results"] if action in r["times"])
        cpu = [r["cpu"][action] for r in run["results"] if action in r.get("cpu", {})]
        if times:
            rows[action] = {"p50": statistics.median(times), "p95": _percentile(times, 95), "max": times[-1]}
            rows[action]["cpu"] = statistics.median(cpu) if cpu else None
    memory = [r["kernel_mib"] + r["worker_mib"] for r in run["results"]]
    return {
        "learners": run["learners"],
        "mode": run["mode"],
        "wall": run["wall"],
        "failures": [r["failure"] for r in run["results"] if r["failure"]],
        "actions": rows,
        "memory_mib": max(memory) if memory else 0.0,
        "kernel_mib": max(r["kernel_mib"] for r in run["results"]),
        "worker_mib": max(r["worker_mib"] for r in run["results"]),
    }


def _percentile(values: list[float], percent: float) -> float:
    """Return the nearest-rank percentile of sorted values."""
    rank = max(1, round(percent / 100 * len(values) + 0.5 - 1e-9))
    return values[min(rank, len(values)) - 1]


def table(summaries: list[dict]) -> str:
    """Return the Markdown table of every class run, with the targets."""
    lines = [
        "| learners, mode | action | p50 | p95 | max | CPU per learner | target (p95) | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        target = TARGETS.get((s["mode"], s["learners"]))
        for action, row in s["actions"].items():
            timed = action != ACTIONS[0]
            met = "" if target is None or not timed else ("yes" if row["p95"] < target else "no")
            shown = f"< {target:g} s" if target is not None and timed else ""
            cpu = f"{row['cpu']:.2f} s" if row.get("cpu") is not None else ""
            lines.append(
                f"| {s['learners']}, {s['mode']} | {action} | {row['p50']:.2f} s | {row['p95']:.2f} s "
                f"| {row['max']:.2f} s | {cpu} | {shown} | {met} |"
            )
    lines += ["", "| learners, mode | wall time | failures | peak memory per learner (kernel + workers) | target |"]
    lines += ["|---|---|---|---|---|"]
    for s in summaries:
        memory = f"{s['memory_mib']:.0f} MiB ({s['kernel_mib']:.0f} + {s['worker_mib']:.0f})"
        met = "met" if s["memory_mib"] < MEMORY_TARGET_MIB else "not met"
        lines.append(
            f"| {s['learners']}, {s['mode']} | {s['wall']:.1f} s | {len(s['failures'])} | {memory} "
            f"| < {MEMORY_TARGET_MIB} MiB: {met} |"
        )
    return "\n".join(lines)


def write_results(summaries: list[dict]) -> None:
    """Replace the classroom section of bench/results.md."""
    load = os.getloadavg()[0]
    section = (
        f"{START}\n## Classroom (`bench/classroom.py`)\n\n"
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load:.1f} at the end. "
        "Each learner is its own process and workspace running the views-field lesson; lockstep = every learner "
        "starts each action at the same moment, paced = each waits 10 to 20 s at random first.\n\n"
        f"{table(summaries)}\n{END}"
    )
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, nargs="*", help="class sizes (default 1 10 30 lockstep, 30 paced)")
    parser.add_argument("--mode", choices=["lockstep", "paced"], help="with --learners: one mode for every size")
    parser.add_argument("--write", action="store_true", help="write the section of bench/results.md")
    parser.add_argument("--json", help="also write the summaries to this file")
    args = parser.parse_args(argv)
    if args.learners:
        plan = [(n, args.mode or "lockstep") for n in args.learners]
    else:
        plan = [(1, "lockstep"), (10, "lockstep"), (30, "lockstep"), (30, "paced")]
    summaries = []
    for learners, mode in plan:
        summary = summarise(run_class(learners, mode))
        summaries.append(summary)
        print(table([summary]), flush=True)
        for failure in summary["failures"]:
            print(failure, file=sys.stderr)
    if args.write:
        write_results(summaries)
    if args.json:
        Path(args.json).write_text(json.dumps(summaries, indent=1), encoding="utf-8")
    return 1 if any(s["failures"] for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
