"""Checks the files a real scheduler wrote (the sched_observe_* CTests).

  check_observe_output.py exit METRICS.json TRACE.json TASKS NAME
      WEFT_METRICS / WEFT_TRACE at exit: TASKS tasks counted, one track per worker and
      one for the main thread (it called parallel_for), TASKS spans named NAME.
  check_observe_output.py fork METRICS.json TRACE.json
      after fork-exit: the parent's files (50 tasks) and the child's METRICS.json.<pid>
      and TRACE.json.<pid> (10 tasks named child-task).
  check_observe_output.py plot PLOT.svg LANES
      weft-plot's SVG is well-formed XML with LANES worker lanes and the main thread's
      caller lane, each with spans.
"""
import glob
import json
import sys
import xml.dom.minidom


def check_exit(metrics_path, trace_path, tasks, name):
    with open(metrics_path) as f:
        metrics = json.load(f)
    with open(trace_path) as f:
        trace = json.load(f)
    workers = len(metrics["workers"])
    assert workers >= 1, workers
    assert metrics["totals"]["tasks_total"] == tasks, metrics["totals"]["tasks_total"]
    assert metrics["window_ns"] > 0
    events = trace["traceEvents"]
    tracks = [e for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
    # The placement's workers, then the background workers (their rows say so).
    worker_tracks = [e for e in tracks
                     if e["args"]["name"].startswith(("worker ", "background worker "))]
    caller_tracks = [e for e in tracks if e["args"]["name"].startswith("caller (tid ")]
    assert len(worker_tracks) == workers, (len(worker_tracks), workers)
    assert len(caller_tracks) == 1 and len(tracks) == workers + 1, tracks
    named = [e for e in events if e["ph"] == "X" and e["name"] == name]
    assert len(named) == tasks, (len(named), tasks)
    assert all(e["dur"] >= 0 for e in events if e["ph"] == "X")


def check_fork(metrics_path, trace_path):
    check_exit(metrics_path, trace_path, 50, "exit-task")
    children = glob.glob(metrics_path + ".*")
    assert len(children) == 1, children
    pid = children[0][len(metrics_path) + 1:]
    assert pid.isdigit(), pid
    check_exit(children[0], trace_path + "." + pid, 10, "child-task")


def check_plot(svg_path, lanes):
    doc = xml.dom.minidom.parse(svg_path)
    found = [g for g in doc.getElementsByTagName("g") if g.getAttribute("class") == "lane"]
    workers = [g for g in found if g.getAttribute("data-kind") == "worker"]
    callers = [g for g in found if g.getAttribute("data-kind") == "caller"]
    assert len(workers) == lanes, (len(workers), lanes)
    assert len(callers) == 1 and len(found) == lanes + 1, (len(callers), len(found))
    assert all(g.getElementsByTagName("rect").length > 1 for g in found)


if __name__ == "__main__":
    if sys.argv[1] == "exit":
        check_exit(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "fork":
        check_fork(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "plot":
        check_plot(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("unknown check " + sys.argv[1])
