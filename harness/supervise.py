"""Run: one QEMU process from start to end.

The scenario's timeout (with an NMI first where the arch takes one), the
grace period for power-off, QMP hot-plugging while the guest runs, and
the rule that no QEMU outlives the harness: killed in a finally, and on
SIGTERM or SIGHUP through install_signal_handlers().
"""
import os
import re
import signal
import subprocess
import sys
import time

import qmp
import scenario as scn

# A whole line: the guest's request to plug a [[hotplug]] disk.
HOTPLUG_READY = re.compile(r'^VB hotplug-ready [^\n]*?\bid=(\S+)[^\n]*\n',
                           re.M)


class Hotplugger:
    """Plugs each [[hotplug]] disk when the guest asks for it: called with
    the verdict channel's text while QEMU runs, it answers each new
    "VB hotplug-ready id=ID" with QMP device_add.  results[ID] is 'added'
    or what went wrong; the conversation goes to the log file."""

    def __init__(self, sc, qmp_path, log_path):
        self.sc = sc
        self.waiting = {hp['id']: hp for hp in sc.get('hotplug', [])}
        self.qmp_path = qmp_path
        self.log_path = log_path
        self.results = {}

    def __call__(self, text):
        for m in HOTPLUG_READY.finditer(text):
            hp = self.waiting.pop(m.group(1), None)
            if hp is None:
                continue
            # Other functions of the slot first, function 0 last.
            for cid in hp.get('before', []):
                self.results[cid] = self.plug(self.waiting.pop(cid))
            self.results[hp['id']] = self.plug(hp)

    def plug(self, hp):
        try:
            with open(self.log_path, 'a') as log, \
                    qmp.QMP(self.qmp_path, log) as mon:
                mon.command('qmp_capabilities')
                mon.command('device_add', scn.hotplug_device(hp, self.sc))
        except (OSError, ValueError, qmp.QMPError) as e:
            return f'device_add failed: {e}'
        return 'added'


POWEROFF_GRACE = 30     # seconds from the guest's "VB end" to QEMU's exit
DUMP_GRACE = 20         # seconds from a hung guest's NMI to QEMU's exit


def inject_nmi(sock, log_path):
    """Send a hung guest an NMI through QMP; with unknown_nmi_panic its
    kernel panics and prints its stacks.  A failure is logged, not
    raised: the kill that follows ends the boot either way."""
    with open(log_path, 'a') as log:
        try:
            with qmp.QMP(sock, log) as mon:
                mon.command('qmp_capabilities')
                mon.command('inject-nmi')
        except (OSError, qmp.QMPError, ValueError) as e:
            log.write(f'inject-nmi failed: {e}\n')


def run_qemu(args, timeout, log_path, verdict_path, watch=None, env=None,
             on_timeout=None):
    """Run QEMU under two watchdogs: the scenario's timeout, and a grace
    period for power-off once the guest has said its last line.  watch,
    if given, is called with the verdict channel's text at every poll;
    env, if given, is QEMU's environment; on_timeout, if given, is called
    once when the timeout expires, and QEMU gets DUMP_GRACE seconds to
    exit after it (the guest's panic report) before it is killed.

    Returns (exit code or None if killed, seconds, power-off state), the
    state being 'clean', 'hung' (killed after VB end) or 'not-reached'."""
    t0 = time.monotonic()
    ended = None
    killed = dumped = False
    with open(log_path, 'wb') as err:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err,
                             stderr=subprocess.STDOUT, env=env,
                             start_new_session=True)
        try:
            while p.poll() is None:
                now = time.monotonic()
                text = read_text(verdict_path)
                if watch:
                    watch(text)
                if ended is None and 'VB end' in text:
                    ended = now
                if now - t0 > timeout and on_timeout and ended is None:
                    on_timeout()
                    on_timeout = None
                    dumped = True
                    timeout += DUMP_GRACE
                elif now - t0 > timeout or (ended and
                                            now - ended > POWEROFF_GRACE):
                    _kill(p)
                    killed = True
                    break
                time.sleep(0.5)
        finally:
            # QEMU runs in a session of its own, out of reach of a Ctrl-C
            # at the terminal: whatever ends this loop (an exception in
            # watch, KeyboardInterrupt, SystemExit from on_signal) ends
            # QEMU too.
            if p.poll() is None:
                _kill(p)
    secs = time.monotonic() - t0
    if killed or dumped:
        return None, secs, 'hung' if ended else 'not-reached'
    return p.returncode, secs, ('clean' if 'VB end' in
                                read_text(verdict_path) else 'not-reached')


def on_signal(signum, _frame):
    """SIGTERM (and SIGHUP) as an exit, so that the finally clauses that
    kill QEMU run: install with install_signal_handlers()."""
    sys.exit(128 + signum)


def install_signal_handlers():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)


def read_text(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return ''


def _kill(p):
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
