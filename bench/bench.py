#!/usr/bin/env python3
"""make bench: what the firmware costs and how fast it answers.

  1. guest instructions per echoed datagram (QEMU -icount shift=0, the
     superloop's busy_instret over echo.replied), hostfwd and tap, with and
     without checksum offload negotiated; and instructions per idle second
     (also with the busy-poll boot argument poll=POLL_US);
  2. echo rate and round-trip latency, 1 and 32 outstanding: hostfwd, and
     on a tap in a network namespace the stack and the L2 reflector with
     the very same frames (the reflector is the ceiling); beside them the
     polling reflector (bench/reflector/: no interrupts, never sleeps, the
     most QEMU's tap path gives a guest) and the firmware booted with
     poll=POLL_US, the firmware's rate as a ratio to the polling
     reflector's;
  3. boot: instructions and ms to ready, wall time from starting QEMU to
     the first echoed datagram;
  4. image size and static RAM by source file, from the image's symbols
     and debug info;
  5. where the instructions of one datagram go, by function, from a QEMU
     execution trace (the echo firmware and the reflector).
Sections 1 and 2 also measure every further NIC of BENCH_NICS (default
"virtio-mmio virtio-pci gem": the GEM on -M sifive_u), the same images, beside the
first; the other sections measure the first NIC only.
Prints a table (Markdown), writes build/bench/results.json, results.md
and rate.png. Never fails on speed: the exit status is non-zero only when
something is broken (a corrupted reply, a guest that does not boot).

Usage: bench/bench.py [--seconds S] [--rounds R] [--count N]
                      [--only size,boot,instr,rate,profile]
                      [--profile-count N] [--update-readme] [--render]
Run through bench/run.sh (make bench), which builds what this needs.
"""
import argparse
import contextlib
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test"))
import guest  # noqa: E402
import netns  # noqa: E402
from guest import Guest, free_port, user_net  # noqa: E402

# bench/run.sh builds its own copies of the images (VARIANT=bench, own
# object directories), so that a `make` run elsewhere while the benchmark
# runs cannot swap an image under it: build/firmware-bench.elf is
# build/firmware.elf, build/firmware-nocsum-bench.elf is firmware-nocsum,
# build/firmware-l2reflect-bench.elf is firmware-l2reflect. BENCH_SUFFIX=
# (empty) uses the ordinary images.
SUFFIX = os.environ.get("BENCH_SUFFIX", "bench")
_image = guest.image


def image(mode="m", app="echo", variant=""):
    v = "-".join(x for x in (variant, SUFFIX) if x)
    return _image(mode, app, v)


guest.image = image  # Guest() looks its image up through this

OUT = os.path.join(ROOT, "build", "bench")
LOADGEN = os.path.join(OUT, "loadgen")
SIZES = (18, 64, 512, 1472)
# Instructions per echo are also taken at 1400 bytes: issue 16's budget
# (800) is stated there.
INSTR_SIZES = (18, 64, 512, 1400, 1472)
WINDOWS = (1, 32)
TAP_HOST_IP = "10.0.2.2"
GUEST_IP = "10.0.2.15"
RAW_MAC = "02:00:00:00:00:01"  # the raw load generator's own address on the tap
RAW_IP = "10.0.2.3"
CROSS = os.environ.get("CROSS_COMPILE", "riscv64-unknown-elf-")
# The polling reflector (bench/reflector/, built by run.sh): a guest that
# spins on the RX ring and turns UDP frames around in place, for
# virtio-mmio only. The firmware's rate as a ratio to its rate is measured
# at POLL_SIZES (64 bytes, the figure, and a full frame), beside
# the firmware booted with the busy-poll window poll=POLL_US.
REFLECTOR = os.path.join(OUT, "polling-reflector.elf")
POLL_US = 200
POLL_SIZES = (64, 1472)
POLL_NAME = f"tap-stack-poll{POLL_US}"
GUEST_CSUM_BIT = 1  # VIRTIO_NET_F_GUEST_CSUM

problems = []  # things that are broken (not slow): they set the exit status
# The NICs measured: the first everywhere, the others in sections 1 and 2.
NICS = os.environ.get("BENCH_NICS", "virtio-mmio virtio-pci gem").split()


@contextlib.contextmanager
def on_nic(nic):
    """Guests started inside use this NIC, and the machine it sits on."""
    old = guest.NIC, guest.MACHINE
    guest.NIC, guest.MACHINE = nic, guest.MACHINES.get(nic, "virt")
    try:
        yield
    finally:
        guest.NIC, guest.MACHINE = old


def named(base, nic):
    """A path's name: as before for the first NIC, suffixed for the others."""
    return base if nic == NICS[0] else f"{base}-{nic}"


def log(*a):
    print(*a, flush=True)


def loadgen(args, timeout):
    """Run the load generator; its JSON result (or {'error': ...})."""
    try:
        r = subprocess.run([LOADGEN] + [str(a) for a in args], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "load generator timed out"}
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": f"no result (exit {r.returncode}): {r.stderr.strip()[-200:]}"}
    if res.get("bad"):
        problems.append(f"{res['bad']} corrupted replies ({' '.join(map(str, args[:3]))}, "
                        f"size {res.get('size')})")
    return res


def boot(g, what):
    if not g.boot(30):
        raise RuntimeError(f"{what} did not boot:\n{g.out[-600:]}")
    ready = g.wait_for(r"ready in (\d+) ms \((\d+) instructions\)", 5)
    m = re.search(r"features (0x[0-9a-f]+|0)", g.out)
    mac = re.search(r"mac ([0-9a-f:]{17})", g.out)
    return {"features": int(m.group(1), 16) if m else None,
            "mac": mac.group(1) if mac else "52:54:00:12:34:56",
            "ready_ms": int(ready.group(1)) if ready else None,
            "ready_instret": int(ready.group(2)) if ready else None}


def warm_up(target):
    """One datagram answered (ARP on both sides); retried for a few seconds."""
    for _ in range(10):
        r = loadgen(target + ["--size", 18, "--count", 1, "--timeout", 500], 10)
        if r.get("received") == 1:
            return True
    return False


# ---------------------------------------------------------------- 1. instructions

def idle_cost(g, seconds):
    """busy_instret of a reset..stats window with no traffic:
    (instret, s, wake-ups)."""
    g.command("reset")
    t0 = time.time()
    time.sleep(seconds)
    st = g.stats()
    return (st["loop.busy_instret"], time.time() - t0, st.get("loop.wakeups", 0),
            st.get("loop.passes", 0))


def idle_windows(g):
    """Instructions per idle second (-icount shift=0 and sleep=on: in wfi
    the guest runs nothing). The timer tick and the console commands cost
    a little: idle windows of two lengths give a constant and a rate.
    The counts are exact and repeat to the instruction, but now and then
    one window comes out some 100,000 higher with no more wake-ups:
    minstret under -icount is the virtual clock, and a real-time warp
    accounted while the guest is awake lands in busy_instret. So two
    windows of each length, and the smaller count of each."""
    short, long_ = [], []
    for _ in range(2):
        short.append(idle_cost(g, 0.2))
        long_.append(idle_cost(g, 1.2))
    c_short, t_short, w_short, p_short = min(short)
    c_long, t_long, w_long, p_long = min(long_)
    rate = max(0.0, (c_long - c_short) / (t_long - t_short))
    const = max(0.0, c_short - rate * t_short)
    # busy_instret is added up when the loop goes to sleep: a loop that
    # never sleeps shows in its passes (wake-ups + repeats), not there
    passes = max(0, p_long - p_short) / (t_long - t_short)
    if passes > 1000:
        problems.append(f"an idle guest does not sleep: {round(passes)} passes/s")
    return {"instret_per_s": round(rate), "console_const": round(const),
            "wakeups_per_s": round(max(0, w_long - w_short) / (t_long - t_short), 1),
            "passes_per_s": round(passes, 1)}


def idle_run(label, append):
    """The echo firmware booted with APPEND, -icount shift=0, hostfwd: one
    datagram answered (a busy-poll window has then had its reason to
    run), then instructions per idle second. Only the idle figure: the
    datagrams of a busy-poll build cost whatever the window spins."""
    port = free_port()
    res = {"image": "firmware", "app": "echo", "variant": "default", "transport": label,
           "nic": guest.NIC, "append": append, "idle_only": True, "sizes": {}}
    with Guest(net=user_net(port), append=append, icount=True) as g:
        res["boot"] = boot(g, f"{label}/firmware {append}")
        res["bootargs_said"] = [ln.strip() for ln in g.out.splitlines()
                                if "bootargs" in ln or "poll" in ln][:4]
        if not warm_up(["udp", "127.0.0.1", port]):
            problems.append(f"{label}/firmware {append}: no answer to the warm-up datagram")
            return res
        res["idle"] = idle_windows(g)
    log(f"  {label:8} firmware {append:10} idle: {res['idle']['instret_per_s']} instructions/s, "
        f"{res['idle']['wakeups_per_s']} wake-ups/s ({'; '.join(res['bootargs_said'])})")
    return res


PLUGIN = os.path.join(OUT, "icount_plugin.so")
# The instruction run once per echo (per reflected frame), where the
# plugin marks it.
PLUGIN_MARK = {"echo": "echo_recv", "l2reflect": "reflect"}


def plugin_args(app, variant, out):
    """QEMU's arguments for the counting plugin, or none when it was not
    built or the image lacks the symbols it marks."""
    if not os.path.exists(PLUGIN):
        return []
    pc = {name: a for a, name, _ in symbols(image(app=app, variant=variant))}
    mark, reset = pc.get(PLUGIN_MARK.get(app, "")), pc.get("net_stats_reset")
    if mark is None or reset is None:
        return []
    return ["-plugin", f"{PLUGIN},mark={mark:#x},reset={reset:#x},out={out}"]


def plugin_segments(out, n):
    """The plugin's figures for the last n counter resets that saw echoes
    (one per size, in order): [(insn, tb) per echo], or [] without them."""
    try:
        with open(out) as f:
            rows = [ln.split() for ln in f if ln.strip()]
        os.unlink(out)
    except OSError:
        return []
    segs = [(float(r[1]), float(r[2])) for r in rows if int(r[0]) > 1]
    return segs[-n:] if len(segs) >= n else []


def instr_run(net, label, count, app="echo", variant="", target=None, raw_tap=None):
    """Boot with -icount shift=0 (the default sleep=on: an idle guest
    sleeps in real time, and instret counts instructions while it runs),
    then per size: reset, COUNT datagrams one at a time, stats. The
    target is a UDP socket, or raw frames on RAW_TAP (for the reflector).
    The counting plugin (bench/icount_plugin.c) rides along: the same
    echoes counted from outside."""
    image_name = "firmware" + ("-" + app if app != "echo" else "") + ("-" + variant if variant else "")
    res = {"image": image_name, "app": app, "variant": variant or "default", "transport": label,
           "nic": guest.NIC, "sizes": {}}
    plug_out = os.path.join(OUT, f"plugin-{os.getpid()}.txt")
    extra = plugin_args(app, variant, plug_out)
    with Guest(net=net, app=app, variant=variant, icount=True, extra=extra) as g:
        info = boot(g, f"{label}/{image_name}")
        res["boot"] = info
        res["guest_csum_negotiated"] = bool((info["features"] or 0) >> GUEST_CSUM_BIT & 1)
        if raw_tap:
            target = ["raw", raw_tap, RAW_MAC, RAW_IP, info["mac"], GUEST_IP, 7]
            ok = loadgen(target + ["--arp", "--size", 18, "--count", 1, "--timeout", 500], 20)
            up = ok.get("received") == 1
        else:
            up = warm_up(target)
        if not up:
            problems.append(f"{label}/{image_name}: no answer to the warm-up datagram")
            return res
        res["idle"] = idle_windows(g)
        rate, const = res["idle"]["instret_per_s"], res["idle"]["console_const"]
        log(f"  {label:8} {image_name:19} idle: {rate} instructions/s, "
            f"{res['idle']['wakeups_per_s']} wake-ups/s")
        for size in INSTR_SIZES:
            g.command("reset")
            t0 = time.time()
            lg = loadgen(target + ["--size", size, "--count", count, "--window", 1,
                                   "--seconds", 120, "--timeout", 1000], 200)
            wall = time.time() - t0
            st = g.stats() or {}
            n = st.get("echo.replied", 0) if app == "echo" else st.get("nic.tx", 0)
            busy = st.get("loop.busy_instret", 0)
            row = {"sent": lg.get("sent"), "answered": n, "busy_instret": busy,
                   "wakeups": st.get("loop.wakeups"), "passes": st.get("loop.passes"),
                   "irqs": st.get("nic.irqs"), "notifies": st.get("nic.notifies"),
                   "csum_fixed": st.get("nic.csum_fixed"), "seconds": round(wall, 3)}
            if n:
                row["instr_per_echo_raw"] = round(busy / n, 1)
                row["instr_per_echo"] = round((busy - const - rate * wall) / n, 1)
                row["wakeups_per_echo"] = round(st.get("loop.wakeups", 0) / n, 3)
                row["passes_per_echo"] = round(st.get("loop.passes", 0) / n, 3)
            if n != count:
                row["note"] = f"only {n} of {count} answered"
            if app == "echo" and not st.get("check_ok"):
                problems.append(f"{label}/{image_name}: stats accounting check failed")
            res["sizes"][size] = row
            log(f"  {label:8} {image_name:19} {size:5} B: {row.get('instr_per_echo', '-'):>8} "
                f"instr/echo (raw {row.get('instr_per_echo_raw', '-')}, "
                f"{row.get('wakeups_per_echo', '-')} wake-ups/echo, csum_fixed {row['csum_fixed']})")
    sizes = list(res["sizes"])
    for size, (insn, tb) in zip(sizes, plugin_segments(plug_out, len(sizes)) if extra else []):
        res["sizes"][size]["plugin_insn"] = insn
        res["sizes"][size]["plugin_tb"] = tb
        log(f"  {label:8} {image_name:19} {size:5} B: plugin {insn} instr/echo, {tb} by blocks")
    return res


def instr_runs(args, have_tap, nic):
    # The nocsum build differs only in what it asks of virtio.
    variants = ("", "nocsum") if nic.startswith("virtio") else ("",)
    label = named("hostfwd", nic)
    runs = []
    for variant in variants:
        port = free_port()
        runs.append(instr_run(user_net(port), label, args.count, variant=variant,
                              target=["udp", "127.0.0.1", port]))
    if have_tap:
        label = named("tap", nic)
        for variant in variants:
            with netns.NetNS("bench") as ns:
                tap = ns.tap(addr=TAP_HOST_IP + "/24")
                runs.append(instr_run(netns.tap_net(tap), label, args.count, variant=variant,
                                      target=["udp", GUEST_IP, 7]))
        # The ceiling's cost: the reflector, raw frames of the same sizes.
        with netns.NetNS("bench") as ns:
            tap = ns.tap(addr=TAP_HOST_IP + "/24")
            runs.append(instr_run(netns.tap_net(tap), label, args.count, app="l2reflect",
                                  raw_tap=tap))
    return runs


def section_instructions(args, have_tap):
    log("== 1. guest instructions per echoed datagram (-icount shift=0)")
    runs = []
    for nic in NICS:
        with on_nic(nic):
            runs += instr_runs(args, have_tap, nic)
            # An idle firmware must still sleep with the busy-poll window.
            runs.append(idle_run(named("hostfwd", nic), f"poll={POLL_US}"))
    return runs


# ---------------------------------------------------------------- 2. rate and latency

def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


QEMU_THREADS = ["-name", "debug-threads=on"]  # the vCPU thread is then called "CPU 0/TCG"


def cpu_ns(pid):
    """Time on a host CPU so far (ns, from schedstat) of QEMU process PID:
    {'vcpu': the thread running the guest, 'main': the I/O thread (devices,
    network back-ends), 'other': the rest}."""
    out = {"vcpu": 0, "main": 0, "other": 0}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tids:
        try:
            name = open(f"/proc/{pid}/task/{t}/comm").read().strip()
            ns = int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        key = "vcpu" if name.startswith("CPU ") else "main" if t == str(pid) else "other"
        out[key] += ns
    return out


def sweep(targets, seconds, rounds, sizes=None, paused=()):
    """Every size and window, for every target in turn, in ROUNDS short
    rounds (seconds / rounds each, targets interleaved): other load on the
    machine then hits all of them alike. A point is the median of its
    rounds; paired ratios between targets come from the same rounds.
    TARGETS: {name: (load generator target, QEMU pid)}; SIZES: {name:
    sizes} for a target measured at some sizes only; PAUSED: targets whose
    QEMU is stopped (SIGSTOP) outside their own rounds, a guest that never
    sleeps would take a host CPU from the others. Also the host CPU
    time QEMU's threads spent per datagram, which other load barely
    disturbs: the vCPU thread's share is the guest's own work."""
    sizes = sizes or {}
    points = {name: {} for name in targets}
    for size in SIZES:
        for w in WINDOWS:
            here = [name for name in targets if size in sizes.get(name, SIZES)]
            runs = {name: [] for name in here}
            cpu = {name: {"vcpu": 0, "main": 0, "other": 0} for name in here}
            for _ in range(rounds):
                for name in here:
                    target, pid = targets[name]
                    if name in paused:
                        os.kill(pid, signal.SIGCONT)
                    c0 = cpu_ns(pid)
                    runs[name].append(loadgen(target + ["--size", size, "--window", w,
                                                        "--seconds", seconds / rounds],
                                              seconds + 30))
                    c1 = cpu_ns(pid)
                    if name in paused:
                        os.kill(pid, signal.SIGSTOP)
                    for k in c0:
                        cpu[name][k] += c1[k] - c0[k]
            for name, rs in runs.items():
                errs = [r["error"] for r in rs if "error" in r]
                got = sum(r.get("received", 0) for r in rs)
                pt = {"rate": median(r.get("rate") for r in rs),
                      "p50_us": median(r.get("p50_us") for r in rs),
                      "p99_us": median(r.get("p99_us") for r in rs),
                      "received": got,
                      "lost": sum(r.get("lost", 0) for r in rs),
                      "round_rates": [r.get("rate") for r in rs],
                      "round_p50_us": [r.get("p50_us") for r in rs],
                      "best_rate": max((r.get("rate") or 0 for r in rs), default=None),
                      "best_p50_us": min((r["p50_us"] for r in rs if r.get("p50_us")),
                                         default=None),
                      "vcpu_us": round(cpu[name]["vcpu"] / got / 1e3, 2) if got else None,
                      "main_us": round(cpu[name]["main"] / got / 1e3, 2) if got else None}
                if errs:
                    pt["error"] = errs[0]
                points[name][f"{size}/{w}"] = pt
                log(f"  {name:18} {size:5} B x{w:<3} {pt['rate'] or 0:9.0f}/s  p50 "
                    f"{pt['p50_us'] or 0:7.1f} us  p99 {pt['p99_us'] or 0:8.1f} us  lost "
                    f"{pt['lost']:<3} QEMU CPU/datagram: vCPU {pt['vcpu_us']} us, I/O thread "
                    f"{pt['main_us']} us" + (f"  ERROR {pt['error']}" if errs else ""))
    return points


def section_rate(args, have_tap):
    log(f"== 2. echo rate and latency ({args.seconds:g} s per point in {args.rounds} rounds, "
        f"no -icount)")
    res = {}
    # One guest per NIC, their rounds interleaved.
    with contextlib.ExitStack() as stack:
        targets, guests = {}, {}
        for nic in NICS:
            name, port = named("hostfwd-stack", nic), free_port()
            with on_nic(nic):
                g = stack.enter_context(Guest(net=user_net(port), extra=QEMU_THREADS))
            info = boot(g, f"{name} rate")
            target = ["udp", "127.0.0.1", port]
            if warm_up(target):
                targets[name], guests[name] = (target, g.proc.pid), (g, info)
            else:
                problems.append(f"{name} rate: no echo")
        if targets:
            pts = sweep(targets, args.seconds, args.rounds)
            for name, (g, info) in guests.items():
                res[name] = {"boot": info, "points": pts[name], "stats": g.stats()}
    if not have_tap:
        return res
    # All guests run at once, each on its own tap (only the first has an
    # address: the others see raw frames only), so their rounds can
    # interleave: per NIC the stack and the reflector.
    with netns.NetNS("bench") as ns, contextlib.ExitStack() as stack:
        targets, guests = {}, {}
        for i, nic in enumerate(NICS):
            ts = ns.tap(f"tap{2 * i}", addr=TAP_HOST_IP + "/24" if i == 0 else None)
            tr = ns.tap(f"tap{2 * i + 1}")
            with on_nic(nic):
                gs = stack.enter_context(Guest(app="echo", net=netns.tap_net(ts),
                                               extra=QEMU_THREADS))
                gr = stack.enter_context(Guest(app="l2reflect", net=netns.tap_net(tr),
                                               extra=QEMU_THREADS))
            si, ri = boot(gs, f"tap echo ({nic})"), boot(gr, f"tap l2reflect ({nic})")
            for tap, g, info, base in ((ts, gs, si, "tap-stack"), (tr, gr, ri, "tap-reflector")):
                name = named(base, nic)
                targets[name] = (["raw", tap, RAW_MAC, RAW_IP, info["mac"], GUEST_IP, 7],
                                 g.proc.pid)
                guests[name] = (g, info)
        # The polling reflector and the firmware with its busy-poll window,
        # each on a tap of its own, at POLL_SIZES only (virtio-mmio: the
        # reflector drives nothing else). The reflector spins on a host
        # CPU: it is stopped outside its own rounds.
        only, paused, polling = {}, set(), None
        if "virtio-mmio" in NICS and os.path.exists(REFLECTOR):
            n = 2 * len(NICS)
            tp, tq = ns.tap(f"tap{n}"), ns.tap(f"tap{n + 1}")
            with on_nic("virtio-mmio"):
                gp = stack.enter_context(Guest(kernel=REFLECTOR, net=netns.tap_net(tp),
                                               extra=QEMU_THREADS))
                stack.callback(os.kill, gp.proc.pid, signal.SIGCONT)  # before it is stopped
                gq = stack.enter_context(Guest(app="echo", net=netns.tap_net(tq),
                                               append=f"poll={POLL_US}", extra=QEMU_THREADS))
            pi, qi = boot(gp, "polling reflector"), boot(gq, f"tap echo poll={POLL_US}")
            qi["bootargs_said"] = [ln.strip() for ln in gq.out.splitlines()
                                   if "bootargs" in ln or "poll" in ln][:4]
            log(f"  {POLL_NAME}: " + "; ".join(qi["bootargs_said"]))
            targets["tap-polling"] = (["raw", tp, RAW_MAC, RAW_IP, pi["mac"], GUEST_IP, 7],
                                      gp.proc.pid)
            targets[POLL_NAME] = (["raw", tq, RAW_MAC, RAW_IP, qi["mac"], GUEST_IP, 7],
                                  gq.proc.pid)
            guests[POLL_NAME] = (gq, qi)
            polling = (gp, pi)
            only = {"tap-polling": POLL_SIZES, POLL_NAME: POLL_SIZES}
            paused = {"tap-polling"}
        elif "virtio-mmio" in NICS:
            problems.append(f"rate: no {os.path.relpath(REFLECTOR, ROOT)} (bench/run.sh builds it)")
        # ARP first: the stack learns where to answer (the reflector
        # reflects the request, which shows it is up too).
        for name, (t, _) in targets.items():
            ok = loadgen(t + ["--arp", "--size", 18, "--count", 1, "--timeout", 500], 20)
            if ok.get("received") != 1:
                problems.append(f"{name}: no answer over the raw socket: {ok}")
                return res
        for name in paused:
            os.kill(targets[name][1], signal.SIGSTOP)
        udp = ["udp", GUEST_IP, 7]
        if warm_up(udp):
            targets["tap-stack-udpsock"] = (udp, targets["tap-stack"][1])
        pts = sweep(targets, args.seconds, args.rounds, only, paused)
        for name in targets:
            res[name] = {"points": pts[name]}
        for name, (g, info) in guests.items():
            res[name].update(boot=info, stats=g.stats())
        if polling:
            res["tap-polling"]["boot"] = polling[1]
    # The firmware over the polling reflector, round by round, then the
    # median: of the rates, and of the median round trips (reflector's /
    # firmware's). A guest that never sleeps loses its host CPU for a time
    # slice (ms) whenever something else on the machine wants it: on a
    # busy machine that fills its mean round trip, hence its rate, but
    # hardly its median.
    fw = named("tap-stack", "virtio-mmio")
    if "tap-polling" in res:
        # And as share_percent_best: the least disturbed round of each,
        # the fastest median round trip at 1 outstanding, the highest rate
        # at 32.
        ratio, ratio_p50, ratio_best = {}, {}, {}
        for name in (fw, POLL_NAME):
            r, r50, rb = {}, {}, {}
            for key, q in res["tap-polling"]["points"].items():
                p = res.get(name, {}).get("points", {}).get(key, {})
                rs = [a / b for a, b in zip(p.get("round_rates", []), q["round_rates"]) if a and b]
                r[key] = round(median(rs), 3) if rs else None
                rs = [b / a for a, b in zip(p.get("round_p50_us", []), q.get("round_p50_us", []))
                      if a and b]
                r50[key] = round(median(rs), 3) if rs else None
                if key.endswith("/1") and p.get("best_p50_us") and q.get("best_p50_us"):
                    rb[key] = round(q["best_p50_us"] / p["best_p50_us"], 3)
                elif p.get("best_rate") and q.get("best_rate"):
                    rb[key] = round(p["best_rate"] / q["best_rate"], 3)
            ratio[name], ratio_p50[name], ratio_best[name] = r, r50, rb
            log(f"  {name} / tap-polling: " + "; ".join(
                f"{what} " + ", ".join(f"{k.replace('/', ' B x')} {fmt(v, 2)}" for k, v in d.items())
                for what, d in (("rate", r), ("p50 round trip", r50), ("best rounds", rb))))
        res["polling_ratio"] = ratio
        res["polling_ratio_p50"] = ratio_p50
        res["polling_ratio_best"] = ratio_best
    # Stack over reflector, round by round (the same moments), then the median.
    share = {}
    for key, p in res["tap-stack"]["points"].items():
        q = res["tap-reflector"]["points"].get(key, {})
        ratios = [a / b for a, b in zip(p["round_rates"], q.get("round_rates", []))
                  if a and b]
        share[key] = round(100 * median(ratios), 1) if ratios else None
    res["share_percent"] = share
    # With one outstanding, a rate is 1 / the mean round trip, which the
    # machine's hiccups (ms-long, whoever they hit) dominate; the median
    # round trip is what the two guests themselves take.
    # The machine's hiccups (ms-long, whoever they hit) dominate the mean
    # round trip, so also: the best round of each (the least disturbed),
    # the fastest per-round median round trip at 1 outstanding, the
    # highest per-round rate at 32.
    best = {}
    for key, p in res["tap-stack"]["points"].items():
        q = res["tap-reflector"]["points"].get(key, {})
        if key.endswith("/1") and p.get("best_p50_us") and q.get("best_p50_us"):
            best[key] = round(100 * q["best_p50_us"] / p["best_p50_us"], 1)
        elif p.get("best_rate") and q.get("best_rate"):
            best[key] = round(100 * p["best_rate"] / q["best_rate"], 1)
    res["share_percent_best"] = best
    return res


# ---------------------------------------------------------------- 3. boot

def boot_icount(elf, trace=None):
    """Instructions and guest ms to 'ready' with -icount shift=0,sleep=off
    and the console going to a file. With sleep=on (the default) the
    counter QEMU gives for minstret is the virtual clock, which also
    advances with real time while QEMU starts the machine: the count at
    ready then varies from run to run by millions. With sleep=off it is
    the instructions executed, the same every run."""
    con = os.path.join(OUT, "boot-console.txt")
    if os.path.exists(con):
        os.unlink(con)
    p = subprocess.Popen(["qemu-system-riscv64", "-M", "virt", "-m", "128M", "-display", "none",
                          "-bios", "none", "-kernel", elf, "-serial", f"file:{con}",
                          "-monitor", "none", "-icount", "shift=0,sleep=off"] + user_net(free_port())
                         + (["-d", "in_asm,exec,nochain", "-D", trace] if trace else []),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    m = None
    try:
        end = time.time() + 20
        while time.time() < end and not m:
            time.sleep(0.05)
            try:
                m = re.search(r"ready in (\d+) ms \((\d+) instructions\)", open(con).read())
            except OSError:
                pass
    finally:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def boot_profile():
    """Where the boot's instructions go: the execution trace from the
    first instruction to app_ready, by function."""
    import bisect
    elf = image()
    syms = symbols(elf)
    addrs = [a for a, _, _ in syms]
    pc_of = {name: a for a, name, _ in syms}
    logf = os.path.join(OUT, "qemu-exec-boot.log")
    boot_icount(elf, trace=logf)
    counts, tb = exec_counts(logf, pc_of.get("_start"), None, sym_pc(pc_of, "boot_done"))
    try:
        os.unlink(logf)
    except OSError:
        pass
    per = {}
    for pc, k in counts.items():
        i = bisect.bisect_right(addrs, pc) - 1
        name = f"{syms[i][1]} ({syms[i][2]})" if i >= 0 else "?"
        per[name] = per.get(name, 0) + k * tb.get(pc, 0)
    top = sorted(per.items(), key=lambda kv: -kv[1])
    return {"total": sum(per.values()), "functions": [{"function": f, "instructions": v}
                                                      for f, v in top[:12]]}


def section_boot(args):
    log("== 3. boot")
    res = {}
    runs = [boot_icount(image()) for _ in range(3)]
    ok = [r for r in runs if r[1] is not None]
    if not ok:
        problems.append("boot: no 'ready' line with the console on a file")
    res["icount"] = {"ms": min(r[0] for r in ok) if ok else None,
                     "instructions": min(r[1] for r in ok) if ok else None,
                     "runs": runs}
    res["profile"] = boot_profile()
    walls = []
    for _ in range(3):
        port = free_port()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.01)
        t0 = time.monotonic()
        with Guest(net=user_net(port)) as g:
            answered = None
            while time.monotonic() - t0 < 20:
                s.sendto(b"boot?", ("127.0.0.1", port))
                try:
                    if s.recvfrom(64)[0] == b"boot?":
                        answered = time.monotonic() - t0
                        break
                except (socket.timeout, ConnectionRefusedError):
                    pass
            g.boot(5)
            m = re.search(r"ready in (\d+) ms", g.out)
            walls.append({"first_echo_s": answered,
                          "ready_ms_guest_clock": int(m.group(1)) if m else None})
        s.close()
    res["wall"] = walls
    ok = [w["first_echo_s"] for w in walls if w["first_echo_s"] is not None]
    res["first_echo_ms_min"] = round(min(ok) * 1000, 1) if ok else None
    res["first_echo_ms_median"] = round(sorted(ok)[len(ok) // 2] * 1000, 1) if ok else None
    if not ok:
        problems.append("boot: no echo within 20 s of starting QEMU")
    log(f"  ready: {res['icount']['instructions']} instructions, {res['icount']['ms']} ms guest "
        f"time (-icount shift=0,sleep=off; 3 runs: {[r[1] for r in runs]}); first echo {res['first_echo_ms_median']} ms after starting QEMU "
        f"(median of 3, min {res['first_echo_ms_min']})")
    bp = res["profile"]
    log(f"  boot trace: {bp['total']} instructions; " + ", ".join(
        f"{e['function']} {e['instructions']}" for e in bp["functions"][:5]))
    return res


# ---------------------------------------------------------------- 4. size

# Output sections (riscv64-unknown-elf-size -A) and what they count as.
# .tbss_space only reserves the room of .tbss again (linker.ld): not counted.
SECTION_KIND = {".text": "text", ".rodata": "rodata", ".data": "data", ".sdata": "data",
                ".tdata": "data", ".tbss": "bss", ".bss": "bss", ".sbss": "bss",
                ".noinit": "noinit", ".stack": "stack"}
KINDS = ("text", "rodata", "data", "bss", "noinit")  # attributed to files; the stack is not
NO_DEBUG = "(no debug info)"


def source_file(path, comp_dir=""):
    """A source path from the debug info as the tables show it: repo-relative
    (net/udp.c, boot/start.S), 'libc' (picolibc), 'libgcc', or '' for none."""
    if not path:
        return ""
    full = os.path.normpath(os.path.join(comp_dir, path)) if comp_dir else path
    if os.path.isabs(full) and full.startswith(ROOT + os.sep):
        return os.path.relpath(full, ROOT)
    if "newlib/libc" in path or "picolibc" in path or "picolibc" in comp_dir:
        return "libc"
    if "libgcc" in path or "libgcc" in comp_dir:
        return "libgcc"
    return full


def output_sections(elf):
    """[(name, address, size)] of the ELF's allocated output sections (size -A)."""
    out = subprocess.run([CROSS + "size", "-A", elf], capture_output=True, text=True,
                         check=True).stdout
    secs = []
    for ln in out.splitlines():
        p = ln.split()
        if len(p) == 3 and p[0].startswith(".") and p[1].isdigit() and p[2].isdigit():
            secs.append((p[0], int(p[2]), int(p[1])))
    return secs


def dwarf_index(elf):
    """What the DWARF (readelf --debug-dump=info) knows that `nm -l` does
    not find: {variable address: source file}, following the LTO units'
    DW_AT_abstract_origin back to the compilation unit of the source file,
    and [(low, high, source file)] of the compilation units with one
    address range (assembler files: boot/start.S, libgcc's save-restore.S)."""
    out = subprocess.run([CROSS + "readelf", "--debug-dump=info", elf], capture_output=True,
                         text=True).stdout
    die_re = re.compile(r"^\s*<(\d+)><([0-9a-f]+)>: Abbrev Number: \d+ \((DW_TAG_\w+)\)")
    attr_re = re.compile(r"^\s+<[0-9a-f]+>\s+(DW_AT_\w+)\s*: (.*)$")
    loc_re = re.compile(r"^\d+ byte block: [0-9a-f ]+\t?\s*\(DW_OP_addr: ([0-9a-f]+)\)$")
    cus = []          # [{name, comp_dir, low, high}]
    cu_of = {}        # variable DIE -> index in cus
    origin = {}       # variable DIE -> its abstract origin / specification
    addr_die = {}     # address -> variable DIE holding it
    die = tag = None

    def text(v):  # "(indirect string, offset: 0x1b3a): name" -> "name"
        return v.split("): ", 1)[1] if v.startswith("(") and "): " in v else v.strip()

    for ln in out.splitlines():
        m = die_re.match(ln)
        if m:
            die, tag = int(m.group(2), 16), m.group(3)
            if tag == "DW_TAG_compile_unit":
                cus.append({"name": "", "comp_dir": "", "low": None, "high": None})
            if tag == "DW_TAG_variable" and cus:
                cu_of[die] = len(cus) - 1
            continue
        m = attr_re.match(ln)
        if not m or die is None or not cus:
            continue
        at, val = m.group(1), m.group(2).strip()
        if tag == "DW_TAG_compile_unit":
            cu = cus[-1]
            if at == "DW_AT_name":
                cu["name"] = text(val)
            elif at == "DW_AT_comp_dir":
                cu["comp_dir"] = text(val)
            elif at == "DW_AT_low_pc" and val.startswith("0x"):
                cu["low"] = int(val, 16)
            elif at == "DW_AT_high_pc":
                cu["high"] = val
        elif tag == "DW_TAG_variable":
            if at in ("DW_AT_abstract_origin", "DW_AT_specification"):
                r = re.search(r"<0x([0-9a-f]+)>", val)
                if r:
                    origin[die] = int(r.group(1), 16)
            elif at == "DW_AT_location":
                r = loc_re.match(val)
                if r:
                    addr_die[int(r.group(1), 16)] = die
    files = [source_file(cu["name"], cu["comp_dir"]) if cu["name"] != "<artificial>" else ""
             for cu in cus]
    var_file = {}
    for addr, d in addr_die.items():
        seen = set()
        while d in origin and d not in seen:
            seen.add(d)
            d = origin[d]
        f = files[cu_of[d]] if d in cu_of else ""
        if f:
            var_file[addr] = f
    ranges = []
    for cu, f in zip(cus, files):
        if f and cu["low"] and cu["high"]:
            h = cu["high"]
            high = int(h, 16) if h.startswith("0x") else cu["low"] + int(h) if h.isdigit() else None
            if high and high > cu["low"]:
                ranges.append((cu["low"], high, f))
    return var_file, ranges


def nm_symbols(elf):
    """[(address, size or None, type, name, source file or '')] from
    `nm -S -l` (file:line from the debug info)."""
    out = subprocess.run([CROSS + "nm", "-S", "-l", "--defined-only", elf], capture_output=True,
                         text=True, check=True).stdout
    syms = []
    for ln in out.splitlines():
        head, _, loc = ln.partition("\t")
        p = head.split()
        if len(p) == 4:
            addr, size, typ, name = int(p[0], 16), int(p[1], 16), p[2], p[3]
        elif len(p) == 3:
            addr, size, typ, name = int(p[0], 16), None, p[1], p[2]
        else:
            continue
        if typ in "AaNnUu":  # absolute (__ram_base, __stack_size), debug, undefined
            continue
        src = loc.strip().rsplit(":", 1)[0] if loc.strip() else ""
        syms.append((addr, size, typ, name, source_file(src)))
    return syms


def attribute(elf):
    """Every byte of the output sections to the source file of the symbol
    covering it. A symbol belongs to the section its address falls in; a
    code label without a size (assembler) runs to the next symbol; bytes
    that two symbols cover (aliases: vfprintf, __riscv_save_N) count once.
    Returns (sections [(name, kind, address, size)], by_file
    {file: {kind: bytes}}, attributed symbols [(bytes, name, file, kind)])."""
    secs = [(n, SECTION_KIND[n], a, s) for n, a, s in output_sections(elf)
            if n in SECTION_KIND and s > 0]
    var_file, cu_ranges = dwarf_index(elf)
    # TLS symbols (picolibc's errno) carry their offset in the TLS block,
    # which starts at .tdata (or at .tbss when there is no .tdata).
    tls = [(a, s) for n, _, a, s in secs if n in (".tdata", ".tbss")]
    tls_base, tls_size = (min(a for a, _ in tls), sum(s for _, s in tls)) if tls else (0, 0)
    inside = {n: [] for n, _, _, _ in secs}
    for addr, size, typ, name, src in nm_symbols(elf):
        home = [n for n, _, a, s in secs if a <= addr < a + s]
        if not home and tls and typ in "bBdD" and addr < tls_size:
            addr += tls_base
            home = [n for n, _, a, s in secs if a <= addr < a + s]
        if home:
            inside[home[0]].append((addr, size, typ, name, src))
    by, syms = {}, []
    for sname, kind, start, ssize in secs:
        if kind == "stack":
            continue
        end = start + ssize
        lst = sorted(inside[sname], key=lambda s: (s[0], -(s[1] or 0)))
        addrs = sorted({s[0] for s in lst})
        cursor = start
        for addr, size, typ, name, src in lst:
            if size is None:
                if typ not in "tT":
                    continue  # linker-script markers (__bss_start, __global_pointer$)
                nxt = [a for a in addrs if a > addr]
                size = (nxt[0] if nxt else end) - addr
            lo, hi = max(addr, cursor), min(addr + size, end)
            if hi <= lo:
                continue
            cursor = hi
            f = src or var_file.get(addr) or next(
                (cf for cl, ch, cf in cu_ranges if cl <= addr < ch), "") or NO_DEBUG
            d = by.setdefault(f, {k: 0 for k in KINDS})
            d[kind] += hi - lo
            syms.append((hi - lo, name, f, kind))
    return secs, by, syms


def net_objects(objdir):
    """net/*.c compiled one by one without LTO (the image's own compiler
    flags otherwise, as its build recorded them in flags.txt), then
    `size -t`: what the stack's files weigh on their own, before linking,
    --gc-sections and cross-file inlining."""
    import glob
    import shlex
    import tempfile
    flags = None
    try:
        flags = shlex.split(open(os.path.join(objdir, "flags.txt")).read().split(" | ")[0])
    except (OSError, ValueError):
        pass
    if not flags:
        flags = ["--specs=picolibc.specs", "-std=c11", "-march=rv64imac_zicsr_zifencei",
                 "-mabi=lp64", "-mcmodel=medany", "-O2", "-ffreestanding", "-fno-common",
                 "-ffunction-sections", "-fdata-sections", "-DPICOLIBC_INTEGER_PRINTF_SCANF",
                 "-DMODE_S=0", "-DAPP_echo=1", "-I.",
                 '-DCFG_NOINIT=__attribute__((section(".noinit")))']
    flags = [f for f in flags if not (f.startswith(("-flto", "-g", "-W")) or
                                      f in ("-ffat-lto-objects", "-MMD", "-MP"))] + ["-w"]
    srcs = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "net", "*.c")))
    with tempfile.TemporaryDirectory(prefix="bench-size-") as tmp:
        objs = [os.path.join(tmp, os.path.basename(s)[:-2] + ".o") for s in srcs]
        procs = [subprocess.Popen([CROSS + "gcc"] + flags + ["-c", s, "-o", o], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for s, o in zip(srcs, objs)]
        for s, p in zip(srcs, procs):
            msg = p.communicate()[0]
            if p.returncode:
                raise RuntimeError(f"compiling {s} without LTO failed: {msg.strip()[-300:]}")
        out = subprocess.run([CROSS + "size", "-t"] + objs, capture_output=True, text=True,
                             check=True).stdout.strip().splitlines()
    per = {}
    for ln in out[1:-1]:
        p = ln.split()
        per["net/" + os.path.basename(p[5])[:-2] + ".c"] = int(p[0])
    tot = out[-1].split()
    return {"text": int(tot[0]), "data": int(tot[1]), "bss": int(tot[2]), "files": per,
            "flags": " ".join(flags)}


def section_size(args):
    log("== 4. image size and static RAM")
    elf = image()
    res = {"elf": os.path.relpath(elf, ROOT)}
    secs, by, syms = attribute(elf)
    res["sections"] = {n: s for n, _, _, s in secs}
    totals = {k: 0 for k in KINDS + ("stack",)}
    for _, kind, _, s in secs:
        totals[kind] += s
    res["totals"] = totals
    # From the first section to the end of .stack, the gaps that the
    # sections' alignment leaves between them included.
    res["span"] = max(a + s for _, _, a, s in secs) - min(a for _, _, a, _ in secs) if secs else 0
    res["by_file"] = by
    res["alignment"] = {k: totals[k] - sum(v[k] for v in by.values()) for k in KINDS}
    res["stack"] = totals["stack"]
    ram = sorted(((n, s, f, k) for n, s, f, k in syms if k in ("data", "bss", "noinit")),
                 reverse=True)
    res["ram_symbols"] = [{"symbol": s, "file": f, "section": k, "bytes": n}
                          for n, s, f, k in ram[:25]]
    res["static_ram"] = sum(totals[k] for k in ("data", "bss", "noinit", "stack"))
    res["net"] = {k: sum(v[k] for o, v in by.items() if o.startswith("net/")) for k in KINDS}
    objdir = os.path.join(ROOT, "build", "obj", os.path.basename(elf)[:-4])
    try:
        res["net_objects_berkeley"] = net_objects(objdir)
    except (OSError, RuntimeError, subprocess.CalledProcessError, IndexError, ValueError) as e:
        log(f"  net/ objects without LTO: {e}")
        res["net_objects_berkeley"] = None
    for k in KINDS:  # by construction; a failure here is a bug in attribute()
        if sum(v[k] for v in by.values()) + res["alignment"][k] != totals[k] or \
                res["alignment"][k] < 0:
            problems.append(f"size: {k} does not add up")
    net = res["net"]
    log("  " + "  ".join(f"{k} {totals[k]}" for k in KINDS + ("stack",)) +
        f"; static RAM {res['static_ram']}")
    log("  unattributed (alignment, string literals, symbols without a size): " +
        ", ".join(f"{k} {res['alignment'][k]}" for k in KINDS))
    nob = res["net_objects_berkeley"]
    log("  net/ (linked): " + "  ".join(f"{k} {net[k]}" for k in KINDS) +
        (f"; net/*.c without LTO, size -t: text {nob['text']} data {nob['data']} "
         f"bss {nob['bss']}" if nob else ""))
    return res


# ---------------------------------------------------------------- 5. profile

def sym_pc(pc_of, name):
    """The address of function NAME, also under a name LTO gave it
    (NAME.lto_priv.0, NAME.constprop.0, ...)."""
    if name in pc_of:
        return pc_of[name]
    return next((a for n, a in pc_of.items() if n.startswith(name + ".")), None)


def symbols(elf):
    """Function symbols of ELF, sorted: [(address, name, source file)]."""
    syms = []
    nm = subprocess.run([CROSS + "nm", "-l", "-n", elf], capture_output=True, text=True).stdout
    for ln in nm.splitlines():
        p = ln.split()
        if len(p) >= 3 and p[1] in "tTwW":
            src = source_file(p[3].rsplit(":", 1)[0] if len(p) > 3 else "")
            syms.append((int(p[0], 16), p[2], src))
    return sorted(syms)


def exec_counts(logf, start_pc, traffic_pc, end_pc):
    """From a QEMU -d in_asm,exec,nochain log: {block pc: executions} in
    the window from the last execution of START_PC to the first of END_PC
    after TRAFFIC_PC ran, and {block pc: instructions in the block}."""
    tb, counts = {}, {}
    state = 0  # 0 before the window, 1 in it, 2 traffic seen, 3 done
    cur_pc, cur_n = None, 0
    trace_re = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
    insn_re = re.compile(r"^0x([0-9a-f]+):\s")
    with open(logf, errors="replace") as f:
        for ln in f:
            if ln.startswith("Trace"):
                if cur_pc is not None:
                    tb[cur_pc] = cur_n
                    cur_pc = None
                m = trace_re.match(ln)
                if not m:
                    continue
                pc = int(m.group(1), 16)
                if pc == start_pc:
                    state, counts = (1 if traffic_pc is not None else 2), {}
                elif state == 1 and pc == traffic_pc:
                    state = 2
                elif state == 2 and pc == end_pc:
                    state = 3
                if state in (1, 2):
                    counts[pc] = counts.get(pc, 0) + 1
            elif ln.startswith("IN:"):
                if cur_pc is not None:
                    tb[cur_pc] = cur_n
                cur_pc, cur_n = None, 0
            else:
                m = insn_re.match(ln)
                if m:
                    if cur_pc is None and cur_n == 0:
                        cur_pc = int(m.group(1), 16)
                    cur_n += 1
                elif not ln.strip() and cur_pc is not None:
                    tb[cur_pc] = cur_n
                    cur_pc = None
    if cur_pc is not None:
        tb[cur_pc] = cur_n
    return counts, tb


def profile_run(app, net, target, raw_tap, n, label):
    """Where the instructions of one datagram go: QEMU logs every
    translation block it runs (-d in_asm,exec,nochain), and a block counts
    for the function holding its first instruction. The window runs from
    the console's `reset` (net_stats_reset) to the first console_poll after
    the traffic: only the datagrams and the loop's timer ticks are in it.
    A block cut short (an interrupt, an I/O access under -icount) is
    counted whole, so the totals come out a little high."""
    import bisect
    elf = image(app=app)
    syms = symbols(elf)
    addrs = [a for a, _, _ in syms]
    pc_of = {name: a for a, name, _ in syms}
    logf = os.path.join(OUT, f"qemu-exec-{app}.log")
    with Guest(app=app, net=net, icount=True, extra=["-d", "in_asm,exec,nochain", "-D", logf]) as g:
        info = boot(g, f"profile {app}")
        if raw_tap:
            target = ["raw", raw_tap, RAW_MAC, RAW_IP, info["mac"], GUEST_IP, 7]
            loadgen(target + ["--arp", "--size", 18, "--count", 1, "--timeout", 500], 20)
        else:
            warm_up(target)
        g.command("reset")
        loadgen(target + ["--size", 64, "--count", n, "--seconds", 120, "--timeout", 1000], 200)
        st = g.stats() or {}
    counts, tb = exec_counts(logf, sym_pc(pc_of, "net_stats_reset"), sym_pc(pc_of, "vnet_tx"),
                             sym_pc(pc_of, "console_poll"))
    try:
        os.unlink(logf)  # large; the table is what matters
    except OSError:
        pass
    frames = st.get("echo.replied", 0) if app == "echo" else st.get("nic.tx", 0)
    per_func, per_file = {}, {}
    total = 0
    for pc, k in counts.items():
        ins = k * tb.get(pc, 0)
        i = bisect.bisect_right(addrs, pc) - 1
        _, name, src = syms[i] if i >= 0 else (0, "?", "")
        per_func[(name, src)] = per_func.get((name, src), 0) + ins
        per_file[src or "?"] = per_file.get(src or "?", 0) + ins
        total += ins
    if not frames:
        problems.append(f"profile {label}: no datagram answered")
        return {"label": label}
    res = {"label": label, "app": app, "frames": frames, "size": 64,
           "instr_per_frame": round(total / frames, 1),
           "busy_instret_per_frame": round(st.get("loop.busy_instret", 0) / frames, 1),
           "functions": [{"function": f, "file": src, "per_frame": round(v / frames, 1)}
                         for (f, src), v in sorted(per_func.items(), key=lambda x: -x[1])
                         if v / frames >= 0.5],
           "files": {k: round(v / frames, 1)
                     for k, v in sorted(per_file.items(), key=lambda x: -x[1])}}
    log(f"  {label}: {frames} datagrams, {res['instr_per_frame']} instructions each in the trace "
        f"(busy_instret: {res['busy_instret_per_frame']})")
    for k, v in list(res["files"].items())[:12]:
        log(f"    {v:7.1f}  {k}")
    return res


def section_profile(args, have_tap):
    log(f"== 5. profile: instructions per 64-byte datagram by function "
        f"({args.profile_count} datagrams, QEMU execution trace)")
    out = []
    port = free_port()
    out.append(profile_run("echo", user_net(port), ["udp", "127.0.0.1", port], None,
                           args.profile_count, "echo, hostfwd"))
    if have_tap:
        with netns.NetNS("bench") as ns:
            tap = ns.tap(addr=TAP_HOST_IP + "/24")
            out.append(profile_run("l2reflect", netns.tap_net(tap), None, tap,
                                   args.profile_count, "l2reflect, tap"))
    return out


# ---------------------------------------------------------------- output

def machine():
    cpu = "?"
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    q = subprocess.run(["qemu-system-riscv64", "--version"], capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "qemu": q.stdout.splitlines()[0] if q.stdout else "?",
            "loadavg_start": os.getloadavg()[0]}


def fmt(v, nd=0):
    if v is None:
        return "-"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def table(res):
    """The results as Markdown (printed, and put in README by --update-readme)."""
    L = []
    ins = res.get("instructions")
    if ins:
        L.append("Guest instructions per echoed datagram (`-icount shift=0`, busy_instret / "
                 "echo.replied, idle tick and console cost subtracted; "
                 f"{res['args']['count']} datagrams one at a time per size):")
        L.append("")
        L.append("| transport | image | GUEST_CSUM | " + " | ".join(f"{s} B" for s in INSTR_SIZES) +
                 " | wake-ups/echo |")
        L.append("|---|---|---|" + "---:|" * len(INSTR_SIZES) + "---:|")
        for r in ins:
            if r.get("idle_only"):
                continue
            if r["app"] != "echo" or not r.get("nic", "virtio").startswith("virtio"):
                neg = "-"
            elif r.get("guest_csum_negotiated"):
                neg = "negotiated"
            else:
                neg = "not asked" if r["variant"] == "nocsum" else "not offered"
            cells = [fmt(r["sizes"].get(s, {}).get("instr_per_echo")) for s in INSTR_SIZES]
            wk = r["sizes"].get(64, {}).get("wakeups_per_echo")
            L.append(f"| {r['transport']} | {r['image']} | {neg} | " + " | ".join(cells) +
                     f" | {fmt(wk, 2)} |")
        L.append("")
        L.append("GUEST_CSUM: VIRTIO_NET_F_GUEST_CSUM (feature bit 1) as the banner shows it; "
                 "user networking does not offer it, a tap with vnet_hdr does, and then the "
                 "host's own datagrams arrive NEEDS_CSUM and the driver completes their checksum "
                 "(nic csum_fixed). firmware-l2reflect: per reflected frame (raw frames of the "
                 "same sizes), the driver and the superloop alone. Rows marked -gem: the same "
                 "image on -M sifive_u through the Cadence GEM driver.")
        L.append("")
        plug = [r for r in ins if not r.get("idle_only") and
                any("plugin_insn" in r["sizes"].get(s, {}) for s in (64, 1400))]
        if plug:
            L.append("The same echoes counted from outside the guest, by a QEMU TCG plugin "
                     "(bench/icount_plugin.c) that counts every instruction executed but wfi, "
                     "from the first echo of a size to its last: per instruction (exact), and "
                     "as a counter of translated blocks sees them (under `-icount` a block that "
                     "an MMIO access cuts short is counted whole). Nothing is subtracted: the "
                     "idle ticks between echoes and the loop's own accounting are in:")
            L.append("")
            L.append("| transport | image | 64 B | 64 B, by blocks | 1400 B | 1400 B, by blocks |")
            L.append("|---|---|---:|---:|---:|---:|")
            for r in plug:
                cells = []
                for s in (64, 1400):
                    row = r["sizes"].get(s, {})
                    cells += [fmt(row.get("plugin_insn")), fmt(row.get("plugin_tb"))]
                L.append(f"| {r['transport']} | {r['image']} | " + " | ".join(cells) + " |")
            L.append("")
        idle = [r for r in ins if r.get("idle")]
        if idle:
            L.append("An idle guest sleeps: instructions executed per idle second (`-icount "
                     "shift=0`, busy_instret over idle windows of 0.2 and 1.2 s, the "
                     "console's cost taken out; every instruction outside wfi counts), and "
                     "wake-ups and passes of the superloop per idle second (a loop that "
                     "never slept would show in its passes). Boot argument `poll=` is the "
                     "busy-poll window after traffic, in µs:")
            L.append("")
            L.append("| NIC | path | image | boot args | instructions / idle s | "
                     "wake-ups / idle s | passes / idle s |")
            L.append("|---|---|---|---|---:|---:|---:|")
            for r in idle:
                L.append(f"| {r.get('nic', '-')} | {r['transport']} | {r['image']} | "
                         f"{r.get('append') or '-'} | {fmt(r['idle']['instret_per_s'])} | "
                         f"{fmt(r['idle'].get('wakeups_per_s'), 1)} | "
                         f"{fmt(r['idle'].get('passes_per_s'), 1)} |")
            L.append("")
    host = res.get("host")
    if host:
        L.append("The stack alone (`make bench-host`, bench/host_bench.c: net_input of a "
                 "prepared frame + the reply's pkt_free, no driver, no loop), instructions "
                 "per packet:")
        L.append("")
        L.append("| frame | rv64 (firmware flags) | x86-64 (callgrind) |")
        L.append("|---|---:|---:|")
        for k, v in host["kinds"].items():
            L.append(f"| {k} | {fmt(v.get('rv64_instr_per_pkt'))} | {fmt(v.get('x86_instr_per_pkt'))} |")
        L.append("")
    rate = res.get("rate")
    if rate:
        L.append(f"Echo rate (datagrams/s) and round-trip latency p50/p99 (µs), no `-icount`; "
                 f"{res['args']['seconds']:g} s per point in {res['args']['rounds']} rounds "
                 f"interleaved across the paths, medians of the rounds. tap-stack and "
                 f"tap-reflector: raw frames on AF_PACKET, identical for both (and for "
                 f"tap-polling, the polling reflector, and {POLL_NAME}, the firmware booted "
                 f"with `poll={POLL_US}`); tap-stack-udpsock: the host's UDP socket; hostfwd: "
                 f"QEMU user networking:")
        L.append("")
        L.append("| path | size | rate x1 | p50/p99 x1 | rate x32 | p50/p99 x32 |")
        L.append("|---|---:|---:|---:|---:|---:|")
        for name, r in rate.items():
            if "points" not in r:
                continue
            for s in SIZES:
                a = r["points"].get(f"{s}/1", {})
                b = r["points"].get(f"{s}/32", {})
                if not a and not b:
                    continue
                L.append(f"| {name} | {s} | {fmt(a.get('rate'))} | {fmt(a.get('p50_us'))}/"
                         f"{fmt(a.get('p99_us'))} | {fmt(b.get('rate'))} | {fmt(b.get('p50_us'))}/"
                         f"{fmt(b.get('p99_us'))} |")
        pr = rate.get("polling_ratio")
        if pr:
            L.append("")
            L.append("The firmware against the polling reflector (bench/reflector/: spins on "
                     "the virtio-mmio RX ring, no interrupts, never sleeps, turns the frame "
                     "around in place: the most QEMU's tap path gives a guest), the same raw "
                     "frames, each on its own tap; medians of the per-round ratios of the "
                     "rates (firmware's / reflector's), and of the median round trips "
                     "(reflector's / firmware's), which a busy machine disturbs less: a guest "
                     "that never sleeps loses its host CPU for a time slice whenever something "
                     "else wants it; best rounds: the least disturbed round of each, its median "
                     "round trip at 1 outstanding, its rate at 32. The reflector's QEMU is "
                     "stopped outside its own rounds. Target: >= 1.00 at 1 outstanding.")
            L.append("")
            keys = [f"{s}/{w}" for s in POLL_SIZES for w in WINDOWS]
            L.append("| firmware | ratio of | " +
                     " | ".join(f"{k.split('/')[0]} B x{k.split('/')[1]}" for k in keys) + " |")
            L.append("|---|---|" + "---:|" * len(keys))
            pp = rate.get("tap-polling", {}).get("points", {})
            L.append("| (polling reflector) | (echoes/s) | " +
                     " | ".join(fmt(pp.get(k, {}).get("rate")) for k in keys) + " |")
            L.append("| (polling reflector) | (p50 µs) | " +
                     " | ".join(fmt(pp.get(k, {}).get("p50_us")) for k in keys) + " |")
            p50 = rate.get("polling_ratio_p50", {})
            best = rate.get("polling_ratio_best", {})
            for name, r in pr.items():
                L.append(f"| {name} | rate | " + " | ".join(fmt(r.get(k), 2) for k in keys) + " |")
                L.append(f"| {name} | p50 round trip | " +
                         " | ".join(fmt(p50.get(name, {}).get(k), 2) for k in keys) + " |")
                L.append(f"| {name} | best rounds | " +
                         " | ".join(fmt(best.get(name, {}).get(k), 2) for k in keys) + " |")
        if "tap-stack" in rate and "tap-reflector" in rate:
            L.append("")
            L.append("Stack rate as a share of the L2 reflector's: the same frames over the tap, "
                     "median of the per-round ratios (targets: >= 90 % at 1 outstanding, "
                     ">= 85 % at 32):")
            L.append("")
            L.append("| outstanding | " + " | ".join(f"{s} B" for s in SIZES) + " |")
            L.append("|---|" + "---:|" * len(SIZES))
            for w in WINDOWS:
                cells = []
                for s in SIZES:
                    v = rate.get("share_percent", {}).get(f"{s}/{w}")
                    cells.append(f"{v:.0f} %" if v is not None else "-")
                L.append(f"| {w} (rate) | " + " | ".join(cells) + " |")
            for w in WINDOWS:
                cells = []
                for s in SIZES:
                    v = rate.get("share_percent_best", {}).get(f"{s}/{w}")
                    cells.append(f"{v:.0f} %" if v is not None else "-")
                how = ("best rounds: reflector's p50 round trip / stack's" if w == 1
                       else "best rounds: rate")
                L.append(f"| {w} ({how}) | " + " | ".join(cells) + " |")
            L.append("")
            L.append("Host CPU time QEMU spent per datagram (µs, from schedstat, 32 outstanding): "
                     "the vCPU thread runs the guest, the I/O thread the virtio device and the "
                     "network back-end:")
            L.append("")
            L.append("| path | " + " | ".join(f"{s} B vCPU / I/O" for s in SIZES) + " |")
            L.append("|---|" + "---:|" * len(SIZES))
            for name, r in rate.items():
                if "points" not in r:
                    continue
                cells = [f"{fmt(r['points'].get(f'{s}/32', {}).get('vcpu_us'), 1)} / "
                         f"{fmt(r['points'].get(f'{s}/32', {}).get('main_us'), 1)}" for s in SIZES]
                L.append(f"| {name} | " + " | ".join(cells) + " |")
        L.append("")
    b = res.get("boot")
    if b:
        ins_ = b["icount"]["instructions"]
        L.append(f"Boot: ready after {fmt(ins_)} instructions (`-icount shift=0,sleep=off`, "
                 f"1 ns each: {ins_ / 1e6 if ins_ else 0:.2f} ms guest time; the firmware "
                 f"prints {fmt(b['icount']['ms'])} ms). Largest shares (execution trace): " +
                 ", ".join(f"{e['function']} {e['instructions']}"
                           for e in b.get("profile", {}).get("functions", [])[:4]) + ". First "
                 f"datagram echoed {fmt(b['first_echo_ms_median'], 1)} ms after starting QEMU "
                 f"(wall, hostfwd, median of 3, a datagram every 10 ms): nearly all of it is "
                 f"QEMU starting up, the guest itself needs well under a millisecond.")
        L.append("")
    z = res.get("size")
    if z:
        t = z["totals"]
        net = z["net"]
        noinit_syms = [x for x in z["ram_symbols"] if x.get("section") == "noinit"]
        L.append(f"Image `build/firmware.elf` (as built for the benchmark: `{z['elf']}`): "
                 f"text {t.get('text', 0)}, rodata {t.get('rodata', 0)}, data {t.get('data', 0)}, "
                 f"bss {t.get('bss', 0)}, noinit {t.get('noinit', 0)}, stack {z['stack']} bytes; "
                 f"static RAM (data + bss + noinit + stack) {z['static_ram']} bytes. noinit is "
                 f"RAM that start-up does not clear" +
                 (" (" + ", ".join(f"{x['symbol']} ({x['file']}) {x['bytes']}"
                                   for x in noinit_syms[:4]) + ")" if noinit_syms else "") +
                 f". net/ alone: text {net['text']}, rodata {net['rodata']}, data {net['data']}, "
                 f"bss {net['bss']}, noinit {net.get('noinit', 0)} (linked).")
        L.append("")
        L.append("By source file, from the symbols of the linked image (`nm -S -l` and the "
                 "DWARF): a function or variable counts for the file that defines it; with "
                 "LTO, code inlined from another file counts where it was inlined. "
                 "Unattributed: string literals and constants without a symbol, and the "
                 "alignment padding between symbols.")
        L.append("")
        L.append("| file | text | rodata | data+bss | noinit |")
        L.append("|---|---:|---:|---:|---:|")

        def tot(v):
            return sum(v.get(k, 0) for k in ("text", "rodata", "data", "bss", "noinit"))
        rows = sorted(z["by_file"].items(), key=lambda kv: (-tot(kv[1]), kv[0]))
        for o, v in rows:
            L.append(f"| {o} | {v['text']} | {v['rodata']} | {v['data'] + v['bss']} | "
                     f"{v.get('noinit', 0)} |")
        a = z["alignment"]
        L.append(f"| (alignment/unattributed) | {a['text']} | {a['rodata']} | "
                 f"{a['data'] + a['bss']} | {a.get('noinit', 0)} |")
        L.append(f"| total | {t.get('text', 0)} | {t.get('rodata', 0)} | "
                 f"{t.get('data', 0) + t.get('bss', 0)} | {t.get('noinit', 0)} |")
        L.append("")
        nob = z.get("net_objects_berkeley")
        if nob:
            L.append(f"net/*.c compiled one by one without LTO (the firmware's flags otherwise; "
                     f"`size -t` of the objects, before linking and --gc-sections): text "
                     f"(code + rodata) {nob['text']}, data {nob['data']}, bss (+ noinit) "
                     f"{nob['bss']}; linked in the image, net/ text + rodata is "
                     f"{net['text'] + net['rodata']}.")
            L.append("")
        L.append("Largest RAM symbols: " + ", ".join(
            f"{s['symbol']} ({s['file']}" + (f", {s['section']}" if s.get("section") else "") +
            f") {s['bytes']}" for s in z["ram_symbols"][:10]) + ".")
        L.append("")
    for p in res.get("profile") or []:
        if not p.get("functions"):
            continue
        L.append(f"Where the instructions of one 64-byte datagram go ({p['label']}; QEMU "
                 f"execution trace of {p['frames']} datagrams: {fmt(p['instr_per_frame'])} "
                 f"instructions each, busy_instret says {fmt(p['busy_instret_per_frame'])}):")
        L.append("")
        L.append("| function | file | instr/datagram |")
        L.append("|---|---|---:|")
        for e in p["functions"][:16]:
            L.append(f"| {e['function']} | {e['file']} | {e['per_frame']:.1f} |")
        L.append("")
    m = res["machine"]
    L.append(f"Machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}, {m['qemu']}; "
             f"load average {m['loadavg_start']:.1f} at the start, {m.get('loadavg_end', 0):.1f} "
             f"at the end (other work on the machine shows in the rates and tails); "
             f"command: `{res['command']}`; {res['date']}, {res['seconds']:.0f} s.")
    return "\n".join(L)


def plot(res):
    """build/bench/rate.png: echo rate against payload size, 1 outstanding
    (left: the stack and the reflector over the tap, and hostfwd) and 32
    outstanding (right)."""
    rate = res.get("rate", {})
    series = [(k, t) for k, t in (("tap-stack", "stack, tap (raw frames)"),
                                  ("tap-reflector", "L2 reflector, tap (raw frames)"),
                                  ("tap-polling", "polling reflector, tap (raw frames)"),
                                  ("tap-stack-udpsock", "stack, tap (UDP socket)"),
                                  ("hostfwd-stack", "stack, hostfwd"))
              if "points" in rate.get(k, {})]
    if not series:
        return None
    data = os.path.join(OUT, "rate.dat")
    with open(data, "w") as f:
        for k, _ in series:
            f.write(f"# {k}: size rate(1 outstanding) rate(32 outstanding)\n")
            for s in SIZES:
                v = [rate[k]["points"].get(f"{s}/{w}", {}).get("rate") for w in WINDOWS]
                f.write(f"{s} " + " ".join("NaN" if x is None else f"{x:.0f}" for x in v) + "\n")
            f.write("\n\n")
    png = os.path.join(OUT, "rate.png")

    def plots(col):
        return ", ".join(f"'{data}' index {i} using 1:{col} with linespoints lw 2 pt {i + 5} "
                         f"title '{t}'" for i, (_, t) in enumerate(series))
    script = f"""
set terminal pngcairo size 1100,520 font ',10'
set output '{png}'
set multiplot layout 1,2 title 'rvnet UDP echo rate against payload size (QEMU virt, TCG)'
set xlabel 'UDP payload (bytes)'
set ylabel 'echoed datagrams per second'
set logscale x 2
set xtics ({', '.join(str(s) for s in SIZES)})
set yrange [0:*]
set grid
set key bottom left
set title '1 datagram outstanding'
plot {plots(2)}
set title '32 datagrams outstanding'
plot {plots(3)}
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode:
        log("gnuplot failed: " + r.stderr.strip()[-300:])
        return None
    return png


def update_readme(md):
    path = os.path.join(ROOT, "README.md")
    text = open(path).read()
    head = "## Benchmarks"
    body = f"""{head}

`make bench` (bench/run.sh, bench/bench.py; three to five minutes) measures the
firmware in QEMU: guest instructions per echoed datagram (`-icount`) and
per idle second, echo rate and round-trip latency over hostfwd and over a
tap next to the L2 reflector and the polling reflector (bench/reflector/,
a measuring tool that never sleeps: the firmware's rate as a ratio to
its), the boot, image size and static RAM, and where the instructions of
a datagram go (from a QEMU execution trace). `make bench-host`
(bench/host.mk, bench/host_bench.c) measures the stack alone, without
driver or superloop: callgrind on x86-64 and the firmware's own compiler
and flags in QEMU. Both print their figures and never fail on speed; the
results are in build/bench/ (results.json, results.md, host.json, and
rate.png, the echo rate against the payload size). Knobs: `make bench
BENCH_SECONDS=5 BENCH_ROUNDS=10 BENCH_COUNT=10000
BENCH_ONLY=size,boot,instr,rate,profile`.

Instruction counts and sizes are exact and repeatable. Rates and latencies
under TCG depend on the host: on a small machine they are set by QEMU's
I/O thread and by the scheduler more than by the guest (see the QEMU CPU
time per datagram below), and they move with whatever else runs.

The latest run (`make bench-host`, then `bash bench/run.sh
--update-readme`, which is `make bench` writing this section):

{md}
"""
    i = text.find("\n" + head + "\n")
    text = (text[:i + 1] if i >= 0 else text.rstrip("\n") + "\n\n") + body
    open(path, "w").write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 5)))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 10)))
    ap.add_argument("--count", type=int, default=int(os.environ.get("BENCH_COUNT", 10000)))
    ap.add_argument("--only", default=os.environ.get("BENCH_ONLY", "size,boot,instr,rate,profile"),
                    help="comma-separated: size boot instr rate profile")
    ap.add_argument("--profile-count", type=int, default=2000)
    ap.add_argument("--update-readme", action="store_true")
    ap.add_argument("--render", action="store_true",
                    help="measure nothing: print the table of build/bench/results.json again")
    args = ap.parse_args()
    if args.render:
        res = json.load(open(os.path.join(OUT, "results.json")))
        for r in res.get("instructions") or []:
            r["sizes"] = {int(k): v for k, v in r["sizes"].items()}
        md = table(res)
        log(md)
        if args.update_readme:
            update_readme(md)
            log("README.md: section '## Benchmarks' updated")
        return 0
    # A SIGTERM (the time limit in run.sh) unwinds the with-blocks: QEMU
    # stopped, namespaces deleted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    os.makedirs(OUT, exist_ok=True)
    only = set(args.only.split(","))
    have_tap = netns.available()
    if not have_tap:
        log("note: not root or no /dev/net/tun: the tap measurements are skipped")
    res = {"args": vars(args), "machine": machine(),
           "date": time.strftime("%Y-%m-%d %H:%M %Z"),
           "command": "make bench" + (f" BENCH_ONLY={args.only}" if "BENCH_ONLY" in os.environ else "")
           + (" (bash bench/run.sh --update-readme)" if args.update_readme else "")}
    t0 = time.time()
    steps = [("size", section_size, ()), ("boot", section_boot, ()),
             ("instr", section_instructions, (have_tap,)), ("rate", section_rate, (have_tap,)),
             ("profile", section_profile, (have_tap,))]
    for key, fn, extra in steps:
        if key not in only:
            continue
        try:
            res["instructions" if key == "instr" else key] = fn(args, *extra)
        except Exception as e:  # report and go on: one broken part must not hide the rest
            problems.append(f"{key}: {type(e).__name__}: {e}")
            log(f"  {key} failed: {type(e).__name__}: {e}")
    hj = os.path.join(OUT, "host.json")
    if os.path.exists(hj):
        res["host"] = json.load(open(hj))
    res["png"] = plot(res)
    res["problems"] = problems
    res["seconds"] = round(time.time() - t0, 1)
    res["machine"]["loadavg_end"] = os.getloadavg()[0]
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    md = table(res)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(md + "\n")
    log("")
    log(md)
    log("")
    log(f"wrote build/bench/results.json, build/bench/results.md"
        + (", build/bench/rate.png" if res["png"] else "") + f" ({res['seconds']} s)")
    if args.update_readme:
        update_readme(md)
        log("README.md: section '## Benchmarks' updated")
    for p in problems:
        log("PROBLEM: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
