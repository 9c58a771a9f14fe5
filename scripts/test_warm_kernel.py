#!/usr/bin/env python3
"""Test of the warm kernel (scripts/kernel/din_warm_kernel.py) as Jupyter drives it: through
jupyter_client's KernelManager with the kernel 'rust' that scripts/setup_notebooks.sh registers.

  1. a first kernel in notebooks/ starts as before (no spare yet) and runs a cell; a spare starts;
  2. a second kernel in notebooks/, opened while the first still runs (two notebooks at once), is the
     spare: it answers within a few seconds and runs a cell in notebooks/;
  3. the second kernel restarts and runs a cell again;
  4. a kernel in notebooks/student/ (the other edition) runs a cell in its own folder;
  5. after shutting everything down (and the manager's process exiting), no kernel process is left.

Prints each step's seconds; exits 1 on a failure. Run by scripts/lab_test.sh after the browser test.

  .venv-nb/bin/python scripts/test_warm_kernel.py
"""
import os
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ["DIN_WARM_KERNEL"] = "1"
sys.path.insert(0, os.path.join(ROOT, "scripts", "kernel"))

from jupyter_client.manager import KernelManager  # noqa: E402

import din_warm_kernel  # noqa: E402

failures = []


def check(what, ok, detail=""):
    print(f"  [{'pass' if ok else 'FAIL'}] {what}" + (f": {detail}" if detail else ""), flush=True)
    if not ok:
        failures.append(what)


def start(folder):
    t = time.time()
    km = KernelManager(kernel_name="rust")
    km.start_kernel(cwd=folder)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=900)
    return km, kc, time.time() - t


def run(kc, code):
    out = []
    hook = lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None  # noqa: E731
    r = kc.execute_interactive(code, timeout=300, output_hook=hook)
    return r["content"]["status"], "".join(out).strip()


CELL = 'println!("{} {}", ModelConfig::default().embed_dim, std::env::current_dir().unwrap().display());'


def main():
    spec = KernelManager(kernel_name="rust").kernel_spec
    name = (spec.metadata or {}).get("kernel_provisioner", {}).get("provisioner_name")
    if name != "din-warm-evcxr":
        print(f"test_warm_kernel: the kernel 'rust' has provisioner {name!r}, not din-warm-evcxr: run scripts/setup_notebooks.sh")
        return 1
    teacher, student = os.path.join(ROOT, "notebooks"), os.path.join(ROOT, "notebooks", "student")
    km1, kc1, s = start(teacher)
    status, out = run(kc1, CELL)
    check(f"first kernel in notebooks/ ready in {s:.1f} s runs a cell", status == "ok" and out.endswith("/notebooks"), out)
    # the cells' own crate at opt-level 0, the dependencies at 3 (scripts/evcxr_kernel.sh)
    profile = os.path.join(ROOT, "target", "evcxr-notebooks", ".cargo", "config.toml")
    text = open(profile).read() if os.path.exists(profile) else ""
    check("the kernel compiles the cells' crate at opt-level 0",
          "[profile.dev.package.ctx]" in text and "opt-level = 0" in text, text.strip() or f"no {profile}")
    t0 = time.time()
    while os.path.realpath(teacher) not in din_warm_kernel._spares and time.time() - t0 < 60:
        time.sleep(0.5)  # the spare starts a while after a cold start (SPARE_DELAY_COLD_S)
    spare = din_warm_kernel._spares.get(os.path.realpath(teacher))
    check("a spare kernel waits for notebooks/", spare is not None and spare.alive())
    if spare:
        t0 = time.time()
        while time.time() - spare.started < 40 and time.time() - t0 < 60:
            time.sleep(1)  # let it load its prelude, as a participant reading the first notebook would
    km2, kc2, s = start(teacher)
    check(f"a second notebook at once gets the spare: ready in {s:.1f} s", s < 5)
    status, out = run(kc2, CELL)
    check("  … and runs a cell in notebooks/", status == "ok" and out.endswith("/notebooks"), out)
    t = time.time()
    km2.restart_kernel(now=True)
    kc2.wait_for_ready(timeout=900)
    status, out = run(kc2, CELL)
    check(f"the second kernel restarts ({time.time() - t:.1f} s) and runs a cell", status == "ok", out)
    km3, kc3, s = start(student)
    status, out = run(kc3, CELL)
    check(f"a kernel in notebooks/student/ ({s:.1f} s) runs a cell in its own folder",
          status == "ok" and out.endswith("/notebooks/student"), out)
    pids = [km.provisioner.pid for km in (km1, km2, km3)]
    for km, kc in [(km1, kc1), (km2, kc2), (km3, kc3)]:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    din_warm_kernel._stop_all()
    time.sleep(2)
    left = subprocess.run(["pgrep", "-f", "evcxr_jupyter --control_file"], capture_output=True, text=True).stdout.split()
    check("no kernel process left after shutting down", not left, " ".join(left))
    print(f"test_warm_kernel: {'passed' if not failures else 'FAILED: ' + '; '.join(failures)} (kernel pids {pids})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
