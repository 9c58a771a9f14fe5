"""A prepared evcxr kernel waiting for the next notebook: the participant does not wait for its start.

An evcxr kernel of this project starts in about 20 s on two cores: scripts/evcxr_kernel.sh loads the
notebooks' dependency and resolves din's names (the prelude, environment.md section 8) before the
kernel answers Jupyter. This module keeps one such kernel started ahead of time ("a spare") per
notebook folder and hands it to the next notebook opened there; then it starts the next spare.

* `WarmEvcxrProvisioner`, a jupyter_client kernel provisioner (entry point `din-warm-evcxr`, named in
  the kernel's kernel.json by scripts/setup_notebooks.sh): launching a kernel takes the folder's
  spare when one is running (its connection file becomes the kernel manager's) and otherwise starts
  one exactly as jupyter_client's LocalProvisioner does; either way it then starts a spare for that
  folder. Interrupt, restart, shut-down: the LocalProvisioner's, on the process it handed out.
* A Jupyter server extension (`din_warm_kernel`, enabled by the setup for .venv-nb's Jupyter) starts
  a spare for the server's root folder when JupyterLab starts, so that the first notebook is warm too.

A spare takes a build folder (target/evcxr-notebooks/kernel-N) like any kernel. It is started only
when at least two prepared folders (filled by the setup for the current sources) are free, so that
a notebook opened in another folder (teacher's and student's editions) still finds a prepared one:
the setup prepares kernel-0 … kernel-2. A kernel that is not prepared starts as before, slowly, and
its first cell says so. DIN_WARM_KERNEL=0 turns spares off (the scripts that execute notebooks in
batch set it: a spare's start would compete with the notebook being timed). Spares are stopped when
the process that started them exits.
"""
import asyncio
import atexit
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from jupyter_client.connect import write_connection_file
from jupyter_client.launcher import launch_kernel
from jupyter_client.provisioning import LocalProvisioner

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BASE = os.environ.get("DIN_EVCXR_BUILD_ROOT", os.path.join(ROOT, "target", "evcxr-notebooks"))
SLOTS = 8  # scripts/evcxr_kernel.sh's kernel-0 … kernel-7
# seconds from handing out a kernel to starting the next spare: after a cold start, long enough for
# that kernel to have loaded its prelude; after handing out a spare, a few seconds
SPARE_DELAY_COLD_S = float(os.environ.get("DIN_WARM_KERNEL_DELAY_COLD", "30"))
SPARE_DELAY_WARM_S = float(os.environ.get("DIN_WARM_KERNEL_DELAY_WARM", "5"))
# a spare younger than this is let finish its prelude (about 18 s here) before it is handed out
SPARE_MIN_AGE_S = float(os.environ.get("DIN_WARM_KERNEL_MIN_AGE", "25"))

_spares = {}  # folder → _Spare
_lock = threading.Lock()


def enabled():
    return os.environ.get("DIN_WARM_KERNEL", "1") != "0"


def log(msg):
    print(f"din_warm_kernel: {msg}", file=sys.stderr, flush=True)


def free_prepared_slots():
    """Build folders prepared for the current sources whose lock no kernel holds."""
    free = []
    for n in range(SLOTS):
        folder = os.path.join(BASE, f"kernel-{n}")
        if not os.path.exists(os.path.join(folder, ".din-setup-stamp")):
            continue
        try:
            fd = os.open(os.path.join(BASE, f"kernel-{n}.lock"), os.O_WRONLY | os.O_CREAT, 0o644)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError:
            continue
        finally:
            os.close(fd)
        stamp = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "evcxr_stamp.py"), "--check", folder],
                               capture_output=True)
        if stamp.returncode == 0:
            free.append(n)
    return free


class _Spare:
    def __init__(self, folder, argv, env):
        fd, self.connection_file = tempfile.mkstemp(prefix="din-warm-kernel-", suffix=".json")
        os.close(fd)
        _, info = write_connection_file(self.connection_file, ip="127.0.0.1",
                                        key=uuid.uuid4().hex.encode(), transport="tcp")
        info = dict(info)
        if isinstance(info.get("key"), str):
            info["key"] = info["key"].encode()
        self.info = info
        cmd = [a.replace("{connection_file}", self.connection_file) for a in argv]
        env = {k: v for k, v in env.items() if k != "JPY_SESSION_NAME"}
        self.process = launch_kernel(cmd, env=env, cwd=folder)
        self.folder = folder
        self.started = time.time()

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.alive():
            try:
                os.killpg(os.getpgid(self.process.pid), signal.SIGKILL)
            except OSError:
                self.process.kill()
            self.process.wait()
        self.forget_file()

    def forget_file(self):
        try:
            os.remove(self.connection_file)
        except OSError:
            pass


def start_spare(folder, argv, env, need=2):
    """Start a spare kernel for `folder` unless one runs or fewer than `need` prepared build folders
    are free (the spare takes one; one stays for a notebook opened in another folder)."""
    if not enabled():
        return
    folder = os.path.realpath(folder)
    with _lock:
        old = _spares.get(folder)
        if old and old.alive():
            return
        free = free_prepared_slots()
        if len(free) < need:
            return
        try:
            _spares[folder] = _Spare(folder, argv, env)
            log(f"a spare kernel starts for {folder} (prepared build folders free: {free})")
        except Exception as e:  # a spare is an optimisation: never fail a launch for it
            log(f"no spare kernel for {folder}: {e}")


def take_spare(folder):
    folder = os.path.realpath(folder)
    with _lock:
        spare = _spares.pop(folder, None)
    if spare and spare.alive():
        return spare
    if spare:
        spare.forget_file()
    return None


@atexit.register
def _stop_all():
    with _lock:
        spares = list(_spares.values())
        _spares.clear()
    for s in spares:
        s.stop()


class WarmEvcxrProvisioner(LocalProvisioner):
    """LocalProvisioner that hands out the folder's spare kernel when one runs (module docs)."""

    async def launch_kernel(self, cmd, **kwargs):
        folder = kwargs.get("cwd") or os.getcwd()
        env = dict(kwargs.get("env") or os.environ)
        spare = take_spare(folder) if enabled() else None
        if spare is not None and time.time() - spare.started < SPARE_MIN_AGE_S:
            # JupyterLab gave up on a spare handed out 11 s after its start, still in its prelude
            # (the page's kernel status stayed "Unknown"): let it finish first
            await asyncio.sleep(SPARE_MIN_AGE_S - (time.time() - spare.started))
        if spare is not None and not spare.alive():
            spare.forget_file()
            spare = None
        if spare is None:
            info = await super().launch_kernel(cmd, **kwargs)
        else:
            self.process = spare.process
            self.pid = spare.process.pid
            try:
                self.pgid = os.getpgid(self.pid)
            except OSError:
                self.pgid = None
            self.cwd = folder
            # the kernel manager adopts these ports and key (KernelManager._reconcile_connection_info)
            info = self.connection_info = dict(spare.info)
            spare.forget_file()
            log(f"handed out the spare kernel for {os.path.realpath(folder)}, "
                f"started {time.time() - spare.started:.0f} s ago")
        # The next spare starts after a while: a kernel starting beside another one on two cores
        # slows both (a cold first kernel took 36 s instead of 20 s with its spare starting at once);
        # by then the kernel handed out holds its build folder's lock.
        delay = SPARE_DELAY_WARM_S if spare else SPARE_DELAY_COLD_S
        timer = threading.Timer(delay, start_spare, args=(folder, self.kernel_spec.argv, env))
        timer.daemon = True
        timer.start()
        return info


# ---- the Jupyter server extension: a spare for the root folder when JupyterLab starts

def _jupyter_server_extension_points():
    return [{"module": "din_warm_kernel"}]


def _load_jupyter_server_extension(serverapp):
    if not enabled():
        return
    try:
        spec = serverapp.kernel_spec_manager.get_kernel_spec("rust")
    except Exception as e:
        serverapp.log.info(f"din_warm_kernel: no kernel 'rust' ({e}): no spare kernel")
        return
    provisioner = (spec.metadata or {}).get("kernel_provisioner", {}).get("provisioner_name")
    if provisioner != "din-warm-evcxr":
        return
    root = serverapp.root_dir
    if not any(f.endswith(".ipynb") for f in os.listdir(root)):
        return
    env = dict(os.environ)
    env.update(spec.env or {})
    start_spare(root, spec.argv, env)


# Jupyter's old name for the same hook
load_jupyter_server_extension = _load_jupyter_server_extension
