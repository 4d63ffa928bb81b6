#!/usr/bin/env python3
"""Every documented option can be overridden at build time: each
#ifndef-guarded CFG_ option of net/config.h, drivers/config.h and
app/config.h is given on the command line at once (with its default
value), and the firmware and the unit tests still build and the unit
tests pass; a changed value (CFG_MTU=576) builds too. A header with many
overrides (RVNET_OPTS) is checked by test_boot.py on a booted image.
Ends with "config: N passed, M failed"."""
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADERS = ["net/config.h", "drivers/config.h", "app/config.h"]
passed = failed = 0


def result(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   config/{name}", flush=True)
    else:
        failed += 1
        print(f"FAIL config/{name}: {detail}", flush=True)


def options():
    """{NAME: default value} of every guarded option, and the unguarded CFG_ defines."""
    opts, unguarded = {}, []
    for h in HEADERS:
        text = open(os.path.join(ROOT, h)).read()
        for m in re.finditer(r"^#ifndef (CFG_\w+)\n#define \1(?: (.*?))?(?:\s*/\*.*)?$", text, re.M):
            opts[m.group(1)] = (m.group(2) or "").strip()
        for m in re.finditer(r"^#define (CFG_\w+)", text, re.M):
            if m.group(1) not in opts:
                unguarded.append(f"{h}: {m.group(1)}")
    return opts, unguarded


def make(*args, timeout=600):
    r = subprocess.run(["make", "-s", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode == 0, (r.stdout + r.stderr)[-1500:]


opts, unguarded = options()
result("every CFG_ option is #ifndef-guarded", not unguarded, ", ".join(unguarded))
result("options found in the headers", len(opts) >= 35, f"only {len(opts)}")
def respell(v):
    """The same value in other tokens: GCC accepts a redefinition with an
    identical replacement list, so only a different spelling makes an
    unguarded #define fail to build (a brace list gets other spacing)."""
    if v.startswith("{"):
        return "{ " + v[1:-1].replace(", ", " , ") + " }"
    return f"({v})"


# CFG_NOINIT is the Makefile's own; every other option on the command line.
flags = " ".join(shlex.quote(f"-D{k}={respell(v)}") for k, v in sorted(opts.items())
                 if k != "CFG_NOINIT")
ok, out = make("all", "VARIANT=allopts", "CFLAGS_EXTRA=" + flags)
result(f"firmware builds with all {len(opts) - 1} options on the command line", ok, out)
ok, out = make("unit", "HOSTDIR=build/host-allopts", "CFLAGS_EXTRA=" + flags, timeout=900)
result("unit tests pass with all options on the command line", ok, out)
ok, out = make("all", "VARIANT=mtu576", "CFLAGS_EXTRA=-DCFG_MTU=576")
result("CFG_MTU=576 builds", ok, out)
print(f"config: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
