#!/usr/bin/env python3
"""PyTorch on weft, unchanged: one transformer encoder block run the same way under
plain libgomp and under weft-run (bench/run_torch.sh starts this script once per
runtime and mode, then runs `report` on what they wrote).

Modes (each prints one JSON object on stdout, the last line of its output):
  info        which libraries serve OpenMP and BLAS, torch's thread counts, and the
              threads that actually work in a parallel op for set_num_threads 1 and 2
  check OUT   the block's output for a fixed input, saved to OUT (torch.save)
  forward     time of one forward (batch 16), medians over repeats (run_torch.sh starts
              one process per repeat, alternating the runtimes)
  serve       two models in one process: thread A serves batch-1 requests (critical
              priority under weft), thread B runs batch-64 inference (low priority);
              A's latency alone and beside B, B's batches/s alone and beside A
  report DIR  reads DIR/<runtime>-<mode>.json and prints the comparison and the goals

The model, input and sizes are fixed (seeded), so the two runtimes compute the same
numbers. Durations come from TORCH_BENCH_SECONDS (per scenario, default 10) and
TORCH_BENCH_REPEATS (default 3); every figure printed is the median over the repeats.
Timing lives here, never in tests.
"""
import ctypes
import ctypes.util
import json
import os
import statistics
import sys
import threading
import time

THREADS = int(os.environ.get("TORCH_BENCH_THREADS", "2"))
SECONDS = float(os.environ.get("TORCH_BENCH_SECONDS", "10"))
REPEATS = int(os.environ.get("TORCH_BENCH_REPEATS", "3"))
# A request every 20 ms: A is a live service with room between requests, not a loop
# that saturates the machine on its own.
REQUEST_PERIOD_S = float(os.environ.get("TORCH_BENCH_REQUEST_PERIOD_MS", "20")) / 1000

D_MODEL, HEADS, FF, SEQ = 256, 4, 1024, 64
PRIORITY_LOW, PRIORITY_NORMAL, PRIORITY_CRITICAL = 0, 1, 3


def emit(result):
    print(json.dumps(result), flush=True)


def torch_module():
    import torch  # imported late: `report` needs no torch
    return torch


def make_block(seed):
    torch = torch_module()
    torch.manual_seed(seed)
    block = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, batch_first=True)
    return block.eval()


def make_input(batch, seed):
    torch = torch_module()
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, SEQ, D_MODEL, generator=generator)


# --- which library answers --------------------------------------------------------------

class DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def defining_file(symbol):
    """The file the dynamic linker binds `symbol` to in this process's global scope
    (the first definition: a preloaded library wins over libgomp), or None."""
    process = ctypes.CDLL(None)
    try:
        address = ctypes.cast(getattr(process, symbol), ctypes.c_void_p)
    except AttributeError:
        return None
    info = DlInfo()
    libdl = ctypes.CDLL(ctypes.util.find_library("dl") or None)
    if libdl.dladdr(address, ctypes.byref(info)) == 0 or not info.dli_fname:
        return None
    return os.path.realpath(info.dli_fname.decode())


def omp_function(name, restype=ctypes.c_int):
    """An omp_* function as libtorch's calls resolve it: the global definition when
    there is one (weft's, preloaded), otherwise libgomp's."""
    for library in (None, "libgomp.so.1"):
        try:
            function = getattr(ctypes.CDLL(library), name)
        except (AttributeError, OSError):
            continue
        function.restype = restype
        return function
    return None


def set_thread_priority(level):
    """weft_set_thread_priority(level) for the calling thread (0..3 = low..critical),
    exported by libweft_gomp.so. Under libgomp there is none: returns False."""
    try:
        function = ctypes.CDLL(None).weft_set_thread_priority
    except AttributeError:
        return False
    function.argtypes = [ctypes.c_int]
    function(level)
    return True


def loaded_libraries(*fragments):
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if any(f in os.path.basename(path) for f in fragments):
                found.add(path)
    return sorted(found)


def cpu_ticks_by_thread():
    ticks = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ticks[tid] = int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError):
            pass
    return ticks


def working_threads(op, seconds=1.5):
    """How many threads took part in `op`, seen from outside the runtime: the threads
    whose CPU time grew by at least a third of the busiest one's while `op` ran
    repeatedly (the kernel's tick is 10 ms, so it runs for `seconds`)."""
    before = cpu_ticks_by_thread()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        op()
    after = cpu_ticks_by_thread()
    grown = [after[t] - before.get(t, 0) for t in after]
    busiest = max(grown) if grown else 0
    return sum(1 for g in grown if busiest and g * 3 >= busiest)


def mode_info():
    torch = torch_module()
    max_threads = omp_function("omp_get_max_threads")
    a = torch.randn(768, 768)
    b = torch.randn(768, 768)
    x = torch.randn(4_000_000)
    teams = {}
    for n in (1, 2):
        torch.set_num_threads(n)
        teams[n] = {
            "torch.get_num_threads": torch.get_num_threads(),
            "omp_get_max_threads": max_threads() if max_threads else None,
            # An ATen kernel (at::parallel_for -> GOMP_parallel) and a BLAS call
            # (OpenBLAS's own OpenMP region).
            "threads_working_aten": working_threads(lambda: torch.exp(x)),
            "threads_working_blas": working_threads(lambda: torch.mm(a, b)),
        }
    torch.set_num_threads(THREADS)
    emit({
        "mode": "info",
        "torch": torch.__version__,
        "parallel_backend": [l.strip() for l in torch.__config__.parallel_info().splitlines()
                             if "backend" in l],
        "GOMP_parallel": defining_file("GOMP_parallel"),
        "omp_get_max_threads": defining_file("omp_get_max_threads"),
        "pthreadpool_create": defining_file("pthreadpool_create"),
        "weft_set_thread_priority": defining_file("weft_set_thread_priority"),
        "blas": loaded_libraries("libblas", "libopenblas", "liblapack"),
        "openmp": loaded_libraries("libgomp", "libweft_gomp", "libiomp", "libomp"),
        "teams": teams,
    })


def mode_check(out):
    torch = torch_module()
    torch.set_num_threads(THREADS)
    block = make_block(1)
    with torch.inference_mode():
        y = block(make_input(8, 2))
    torch.save(y, out)
    emit({"mode": "check", "out": out, "shape": list(y.shape), "sum": float(y.sum())})


def mode_forward():
    torch = torch_module()
    torch.set_num_threads(THREADS)
    block = make_block(1)
    x = make_input(16, 2)
    per_repeat = []
    with torch.inference_mode():
        for _ in range(5):
            block(x)  # warm-up: first-touch allocations, OpenMP teams
        for _ in range(REPEATS):
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < SECONDS:
                block(x)
                count += 1
            per_repeat.append((time.perf_counter() - start) / count * 1000)
    emit({"mode": "forward", "batch": 16, "ms_per_forward": statistics.median(per_repeat),
          "repeats_ms": per_repeat})


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def serve_once(model_a, model_b, x_a, x_b, with_a, with_b):
    """One window of SECONDS: A's latencies (ms) and B's batches/s, for the threads run."""
    torch = torch_module()
    stop = threading.Event()
    started = threading.Barrier(int(with_a) + int(with_b) + 1)
    latencies, b_done = [], []

    def thread_a():
        set_thread_priority(PRIORITY_CRITICAL)
        with torch.inference_mode():
            for _ in range(5):
                model_a(x_a)
            started.wait()
            next_request = time.perf_counter()
            while not stop.is_set():
                now = time.perf_counter()
                if now < next_request:
                    time.sleep(next_request - now)
                t0 = time.perf_counter()
                model_a(x_a)
                latencies.append((time.perf_counter() - t0) * 1000)
                next_request += REQUEST_PERIOD_S

    def thread_b():
        set_thread_priority(PRIORITY_LOW)
        with torch.inference_mode():
            model_b(x_b)
            started.wait()
            while not stop.is_set():
                model_b(x_b)
                b_done.append(time.perf_counter())

    threads = []
    if with_b:
        threads.append(threading.Thread(target=thread_b))
    if with_a:
        threads.append(threading.Thread(target=thread_a))
    for t in threads:
        t.start()
    started.wait()
    begin = time.perf_counter()
    time.sleep(SECONDS)
    end = time.perf_counter()
    stop.set()
    for t in threads:
        t.join()
    result = {}
    if with_a:
        result["a_p50_ms"] = percentile(latencies, 0.50)
        result["a_p99_ms"] = percentile(latencies, 0.99)
        result["a_requests"] = len(latencies)
    if with_b:
        result["b_batches_per_s"] = sum(1 for t in b_done if t <= end) / (end - begin)
    return result


def next_scenario(scenarios, name, repeat):
    names = list(scenarios)
    i = names.index(name) + 1
    return f"{names[i % len(names)]} (repeat {repeat + 1 + i // len(names)})"


def mode_serve():
    torch = torch_module()
    torch.set_num_threads(THREADS)
    model_a, model_b = make_block(1), make_block(3)
    x_a, x_b = make_input(1, 2), make_input(64, 4)
    scenarios = {"a_alone": (True, False), "b_alone": (False, True), "both": (True, True)}
    runs = {name: [] for name in scenarios}
    priorities = set_thread_priority(PRIORITY_NORMAL)  # probes; this thread runs nothing
    for repeat in range(REPEATS):
        for name, (with_a, with_b) in scenarios.items():
            runs[name].append(serve_once(model_a, model_b, x_a, x_b, with_a, with_b))
            # A line after every scenario: if a later one hangs, the report still has
            # these (marked partial, naming the scenario that did not finish).
            done = repeat == REPEATS - 1 and name == "both"
            medians = {n: {key: statistics.median(r[key] for r in results)
                           for key in results[0]}
                       for n, results in runs.items() if results}
            emit({"mode": "serve", "priorities_set": priorities,
                  "request_period_ms": REQUEST_PERIOD_S * 1000, "medians": medians,
                  "runs": runs, "complete": done,
                  "next": None if done else next_scenario(scenarios, name, repeat)})


# --- report -------------------------------------------------------------------------------

def results(directory, runtime, mode):
    """Every JSON line of the run's file, in order (run_torch.sh appends an error line
    for a run that failed; forward's file has one line per process)."""
    path = os.path.join(directory, f"{runtime}-{mode}.json")
    try:
        with open(path) as f:
            return [json.loads(l) for l in f.read().strip().splitlines() if l.startswith("{")]
    except (OSError, ValueError):
        return []


def load(directory, runtime, mode, last_result=False):
    """The run's last JSON line: its result, or the error run_torch.sh appended. With
    last_result, the last line that is not an error (a serve run's partial figures)."""
    lines = results(directory, runtime, mode)
    if last_result:
        lines = [l for l in lines if "error" not in l]
    return lines[-1] if lines else None


def usable(result):
    return result is not None and "error" not in result


def failures(directory, runtimes):
    """Runs that hung or failed (run_torch.sh wrote their error), one line each."""
    lines = []
    for runtime in runtimes:
        for mode in ("info", "check", "forward", "serve"):
            for result in results(directory, runtime, mode):
                if "error" in result:
                    lines.append(f"  {runtime} {mode}: {result['error']}")
    return lines


def verdict(ok):
    return "met" if ok else "NOT met"


def mode_report(directory):
    runtimes = [r for r in ("libgomp", "weft") if load(directory, r, "info")]
    failed = failures(directory, runtimes)
    print(f"\n=== PyTorch on weft: report ({THREADS} threads; medians of {REPEATS} "
          f"x {SECONDS:g} s) ===")
    if failed:
        print("\nruns that did not complete (their figures are missing below):")
        print("\n".join(failed))
    for runtime in runtimes:
        info = load(directory, runtime, "info")
        if not usable(info):
            continue
        print(f"\n[{runtime}] torch {info['torch']}, {' '.join(info['parallel_backend'])}")
        print(f"  GOMP_parallel        from {info['GOMP_parallel']}")
        print(f"  omp_get_max_threads  from {info['omp_get_max_threads']}")
        print(f"  pthreadpool_create   from {info['pthreadpool_create']}")
        print(f"  weft_set_thread_priority: {info['weft_set_thread_priority'] or 'absent'}")
        print(f"  BLAS loaded: {', '.join(info['blas'])}")
        for n, team in sorted(info["teams"].items()):
            print(f"  set_num_threads({n}): torch.get_num_threads()={team['torch.get_num_threads']}"
                  f" omp_get_max_threads()={team['omp_get_max_threads']}"
                  f" threads working: aten op {team['threads_working_aten']},"
                  f" BLAS mm {team['threads_working_blas']}")

    gomp_check = os.path.join(directory, "libgomp-check.pt")
    weft_check = os.path.join(directory, "weft-check.pt")
    if os.path.exists(gomp_check) and os.path.exists(weft_check):
        torch = torch_module()
        a, b = torch.load(gomp_check), torch.load(weft_check)
        diff = float((a - b).abs().max())
        close = torch.allclose(a, b, rtol=1e-4, atol=1e-5)
        print(f"\noutputs: max |libgomp - weft| = {diff:.3g} over {list(a.shape)}: "
              f"{'agree' if close else 'DIFFER'} (rtol 1e-4, atol 1e-5)")

    metrics = os.path.join(directory, "weft-metrics.json")
    if "weft" in runtimes:
        if os.path.exists(metrics):
            with open(metrics) as f:
                m = json.load(f)
            print("\nweft metrics of the check run (WEFT_METRICS, written at exit):")
            for w in m.get("workers", []):
                tasks = w.get("tasks_total", 0)
                print(f"  worker {w['worker']}: tasks {tasks}, loop chunks {w['loop_chunks']},"
                      f" busy {w['busy_ns'] / 1e6:.1f} ms")
            worked = any(w.get("tasks_total", 0) + w.get("loop_chunks", 0) > 0
                         for w in m.get("workers", []))
            print(f"  regions ran on weft's workers: {'yes' if worked else 'NO'}")
        else:
            print("\nweft metrics: no WEFT_METRICS file was written: libweft_gomp.so did not "
                  "dump its scheduler's metrics at exit (the default scheduler's atexit "
                  "report is the only way for an unmodified process)")

    # One line per process (a failed one's is its error); run_torch.sh ran the runtimes'
    # processes in turn, so the k-th lines of the two files were measured back to back.
    forward = {r: [f["ms_per_forward"] if usable(f) else None
                   for f in results(directory, r, "forward")] for r in runtimes}
    print("\none forward, batch 16 (ms; each process's median, in the order run):")
    for r, times in forward.items():
        done = [t for t in times if t is not None]
        if done:
            listed = ", ".join("failed" if t is None else f"{t:.2f}" for t in times)
            print(f"  {r:8s} {statistics.median(done):8.2f}  ({listed})")
    pairs = [(g, w) for g, w in zip(forward.get("libgomp", []), forward.get("weft", []))
             if g is not None and w is not None]
    if pairs:
        ratio = statistics.median(w / g for g, w in pairs)
        print(f"  weft / libgomp = {ratio:.3f}, the median of {len(pairs)} back-to-back pairs"
              f"  (goal <= 1.05: {verdict(ratio <= 1.05)})")

    serve = {r: v for r in runtimes if (v := load(directory, r, "serve", last_result=True))}
    print("\ntwo models in one process: A batch 1 every "
          f"{REQUEST_PERIOD_S * 1000:g} ms (critical), B batch 64 back to back (low)")
    print(f"  {'runtime':8s} {'A p50 alone':>11s} {'A p99 alone':>11s} {'A p50 +B':>9s}"
          f" {'A p99 +B':>9s} {'B/s alone':>9s} {'B/s +A':>8s}  priorities")
    def figure(m, scenario, key, width):
        value = m.get(scenario, {}).get(key)
        return f"{value:{width}.2f}" if value is not None else f"{'-':>{width}s}"

    for r, s in serve.items():
        m = s["medians"]
        print(f"  {r:8s} {figure(m, 'a_alone', 'a_p50_ms', 11)} {figure(m, 'a_alone', 'a_p99_ms', 11)}"
              f" {figure(m, 'both', 'a_p50_ms', 9)} {figure(m, 'both', 'a_p99_ms', 9)}"
              f" {figure(m, 'b_alone', 'b_batches_per_s', 9)}"
              f" {figure(m, 'both', 'b_batches_per_s', 8)}"
              f"  {'set' if s['priorities_set'] else 'none (no weft_set_thread_priority)'}")
        if not s.get("complete", True):
            print(f"  {'':8s} partial: the run did not finish {s['next']}; "
                  "figures are from the scenarios before it")
    complete = [s for s in serve.values() if s.get("complete", True)]
    if serve.get("libgomp") and serve.get("weft") and len(complete) == 2:
        g, w = serve["libgomp"]["medians"], serve["weft"]["medians"]
        loaded = w["both"]["a_p99_ms"] / w["a_alone"]["a_p99_ms"]
        vs_gomp = g["both"]["a_p99_ms"] / w["both"]["a_p99_ms"]
        b_ratio = w["both"]["b_batches_per_s"] / g["both"]["b_batches_per_s"]
        print(f"  weft: A p99 with B / alone = {loaded:.2f} (goal <= 1.5: {verdict(loaded <= 1.5)})")
        print(f"  A p99 with B, libgomp / weft = {vs_gomp:.2f} (goal >= 3: {verdict(vs_gomp >= 3)})")
        print(f"  B batches/s with A, weft / libgomp = {b_ratio:.2f} "
              f"(goal >= 0.9: {verdict(b_ratio >= 0.9)})")
    if "weft" not in runtimes:
        print("\nweft side SKIPPED: see the note below (libweft_gomp.so missing)")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    mode = argv[1]
    if mode == "info":
        mode_info()
    elif mode == "check" and len(argv) == 3:
        mode_check(argv[2])
    elif mode == "forward":
        mode_forward()
    elif mode == "serve":
        mode_serve()
    elif mode == "report" and len(argv) == 3:
        mode_report(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
