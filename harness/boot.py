#!/usr/bin/env python3
"""Boot one scenario under QEMU and judge it against its expectations.

Usage: boot.py [--quiet] [--base BASE] [--qemu Q] [--seed S] [--cmdline ARGS]
               SCENARIO

The kernel is the test kernel of a base (harness/bases.py): mainline's
build/obj-ARCH by default, --base deb12 the backport's build/obj-deb12-ARCH.
QEMU is Debian's (7.2) unless the scenario says qemu = "10" (build/qemu-10,
unpacked by make deps); a scenario that lists both boots under the first
unless --qemu names the other.

Everything the boot produced stays in build/runs/NAME/ (a backport's in
build/runs/BASE/NAME/; NAME@qemuQ for a scenario that lists several QEMUs): the QEMU command line, the console log, the
verdict channel's lines, the disk images, the QMP conversation (qmp.log,
when a disk is hot-plugged), the kselftest's TAP output (kselftest.tap)
and result.json.  The exit status is 0 when the scenario met its
expectations (or failed exactly as its xfail says), 1 otherwise.
"""
import argparse
import functools
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import bases
import cpio
import dmadata
import ktap
import qmp
import scenario as scn
from arches import ARCHES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, 'build')


def kernel_image(arch, base=bases.DEFAULT):
    """The test kernel of a base (make kernel-ARCH, make
    kernel-deb12-ARCH), or another one named by VB_OBJ_DIR (an object
    directory, e.g. of the stock tree)."""
    a = ARCHES[arch]
    objdir = os.environ.get('VB_OBJ_DIR') or os.path.join(
        ROOT, bases.obj_dir(base, a.name))
    return os.path.join(objdir, a.image)


class QemuMissing(Exception):
    pass


def qemu_launch(sc):
    """(argv start, environment) of the QEMU the scenario names.  QEMU 10
    is not installed but unpacked (bases.QEMU10): its binary runs with its
    own data first (-L; SeaBIOS's own folder for the BIOS it does not
    ship) and its own modules (QEMU_MODULE_DIR), so nothing of Debian's
    7.2 is mixed in.  Raises QemuMissing when it was never unpacked."""
    arch = ARCHES[sc['arch']]
    if scn.qemu_version(sc) != '10':
        return [arch.qemu], None
    top = os.path.join(ROOT, bases.QEMU10['dir'])
    binary = os.path.join(top, 'usr', 'bin', arch.qemu)
    if not os.access(binary, os.X_OK):
        raise QemuMissing(f'QEMU 10 is missing: no '
                          f'{os.path.relpath(binary, ROOT)} (make deps '
                          f'unpacks it: harness/fetch-debs.sh qemu10)')
    env = dict(os.environ, QEMU_MODULE_DIR=os.path.join(
        top, 'usr', 'lib', 'x86_64-linux-gnu', 'qemu'))
    return [binary, '-L', os.path.join(top, 'usr', 'share', 'qemu'),
            '-L', '/usr/share/seabios'], env


def base_initramfs(arch):
    """The initramfs of make initramfs, or another one named by
    VB_INITRAMFS (make bench's, which also holds its tools)."""
    return (os.environ.get('VB_INITRAMFS') or
            os.path.join(BUILD, f'initramfs-{arch}.cpio'))


def plan_step(sc, step):
    """A scenario step as the guest gets it: hotplug learns its BDF."""
    word, *args = step.split()
    if word == 'hotplug':
        hps = {h['id']: h for h in sc['hotplug']}
        hp = hps[args[0]]
        return ' '.join(['hotplug'] + [
            f'{h["id"]} {h["bdf"]}'
            for h in [hp] + [hps[c] for c in hp.get('before', [])]])
    return step


def make_plan(sc, images_meta, out_dev):
    lines = [f'out {out_dev}', f'timeout {sc.get("io_timeout", 60)}']
    for did, (size, h, seed) in images_meta.items():
        lines.append(f'disk {did} {size} {h:016x} {seed:016x}')
    lines += [plan_step(sc, s) for s in scn.steps(sc)]
    return '\n'.join(lines) + '\n'


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
                text = _read_text(verdict_path)
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
                                _read_text(verdict_path) else 'not-reached')


def on_signal(signum, _frame):
    """SIGTERM (and SIGHUP) as an exit, so that the finally clauses that
    kill QEMU run: install with install_signal_handlers()."""
    sys.exit(128 + signum)


def install_signal_handlers():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)


def _read_text(path):
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


def parse_verdict(path):
    """The guest's VB lines as dicts, in order.  A forwarded kselftest
    line ("VB ktap ...") keeps its text whole, as line."""
    recs, raw = [], []
    for line in _read_text(path).replace('\r', '').split('\n'):
        if line.startswith('VB ktap '):
            recs.append({'kind': 'ktap', 'line': line[len('VB ktap '):]})
            continue
        if not line.startswith('VB '):
            if line:
                raw.append(line)
            continue
        words = line.split()
        rec = {'kind': words[1]}
        for w in words[2:]:
            k, _, v = w.partition('=')
            rec[k] = v
        # What an exec step's program printed comes just before its line.
        if rec['kind'] == 'step' and rec.get('name') == 'exec':
            rec['output'] = raw
        raw = []
        recs.append(rec)
    return recs


def log_findings(console, sc):
    """Forbidden console lines not covered by an allow rule with a reason."""
    rules = sc.get('log', {})
    allow = [re.compile(r['match']) for r in rules.get('allow', [])]
    bad = []
    for line in console.splitlines():
        if any(re.search(p, line) for p in scn.FORBIDDEN):
            if not any(a.search(line) for a in allow):
                bad.append(line.strip())
    missing = [r for r in rules.get('require', [])
               if not re.search(r, console, re.M)]
    return bad, missing


def log_counts(console, sc):
    """Scenario rules on how often a line may appear: 'once' patterns
    must match exactly one console line, 'forbid' patterns none.  Returns
    the rules broken, each with the number of lines it matched."""
    rules = sc.get('log', {})
    lines = console.splitlines()

    def count(pattern):
        return sum(1 for line in lines if re.search(pattern, line))
    broken = [f'{r} x{n}' for r in rules.get('once', [])
              if (n := count(r)) != 1]
    broken += [f'{r} x{n}' for r in rules.get('forbid', [])
               if (n := count(r)) != 0]
    return broken


class Judge:
    """Collects named checks: (name, expected, got, ok)."""

    def __init__(self):
        self.checks = []

    def add(self, name, want, got):
        ok = want == got
        self.checks.append({'name': name, 'want': want, 'got': got,
                            'ok': ok})
        return ok

    def within(self, name, low, high, got):
        """A count that must lie from low to high (shown as "low..high")."""
        ok = isinstance(got, int) and low <= got <= high
        self.checks.append({'name': name, 'want': f'{low}..{high}',
                            'got': got, 'ok': ok})
        return ok


def step_number(sc, step, after=0):
    """The number of the first step that reads step (word for word) and
    comes after step number after; None when there is none."""
    return next((n for n, s in enumerate(scn.steps(sc), 1)
                 if n > after and s.split() == step.split()), None)


def find_dev(recs, step, serial, bdf):
    """The VB dev record of step: by disk serial, or by BDF when the guest
    could not read the serial (no virtio-blk driver, or a device that
    never answers).  None when absent."""
    devs = [r for r in recs if r['kind'] == 'dev' and
            r.get('step') == str(step)]
    return (next((d for d in devs if serial and d.get('serial') == serial),
                 None) or
            next((d for d in devs if bdf and d.get('bdf') == bdf), None))


def find_dma(recs, serial, step=None):
    """The first VB dma record of a disk (of that step, if given)."""
    return next((r for r in recs if r['kind'] == 'dma' and
                 r.get('serial') == serial and
                 (step is None or r.get('step') == str(step))), None)


def plug_result(recs, hid, host):
    """'ready' when the host's device_add went through and the guest saw
    the disk come up; else where it stopped."""
    if host is None:
        return 'not-requested'
    if host != 'added':
        return host
    rec = next((r for r in recs if r['kind'] == 'hotplug' and
                r.get('id') == hid), None)
    return rec['state'] if rec else 'not-reported'


def kselftest_result(recs):
    """pass (exit 0), skip (exit 4), or how it failed, with the names of
    the failing tests from its TAP output."""
    rec = next((r for r in recs if r['kind'] == 'kselftest'), None)
    if rec is None:
        return 'not-run'
    if rec['rc'] in ('0', '4'):
        return {'0': 'pass', '4': 'skip'}[rec['rc']]
    _, tests = ktap.parse('\n'.join(r['line'] for r in recs
                                    if r['kind'] == 'ktap'))
    failed = [name for name, t in tests.items() if not t['ok']]
    return f'fail(rc={rec["rc"]})' + (': ' + ', '.join(failed)
                                      if failed else '')


def judge(sc, recs, console, rc, images_meta, images, plugged):
    """Every check of a boot.  A [[device]]'s or [[disk]]'s expect is
    judged on the first report and the first DMA check of it (for a
    [[hotplug]], the first report after its step); a [[check]] on its
    own step, named ID.KEY@STEP."""
    j = Judge()
    j.add('boot.verdict', 'complete',
          'complete' if any(r['kind'] == 'end' for r in recs) else
          ('qemu-timeout' if rc is None else f'incomplete(rc={rc})'))
    serials = {d['id'] for d in scn.disks(sc)}
    bdfs = {t['id']: t.get('bdf') for t in sc.get('device', []) +
            scn.disks(sc)}

    def expect(ident, exp, step, suffix=''):
        dev = find_dev(recs, step, ident if ident in serials else None,
                       bdfs[ident])
        if 'group' in exp:
            got = 'absent' if dev is None else (
                'none' if dev['group'] == 'none' else dev['type'])
            j.add(f'{ident}.group{suffix}', exp['group'], got)
        for key in ('irq', 'driver'):
            if key in exp:
                j.add(f'{ident}.{key}{suffix}', exp[key],
                      'absent' if dev is None else dev[key])

    def dma(ident, want, rec, suffix=''):
        j.add(f'{ident}.dma{suffix}', want,
              dma_result(rec, images_meta.get(ident), images[ident]))

    def irq_cpus(ident, exp, rec):
        """CPUs that got the disk's interrupts once its check is done:
        exactly irq_cpus, or 1 to irq_cpus_max (0: none by MSI/MSI-X)."""
        if 'irq_cpus' not in exp and 'irq_cpus_max' not in exp:
            return
        got = int(rec['irqcpus']) if rec else 'not-reported'
        if 'irq_cpus' in exp:
            j.add(f'{ident}.irq_cpus', exp['irq_cpus'], got)
        if 'irq_cpus_max' in exp:
            j.within(f'{ident}.irq_cpus_max', 1, exp['irq_cpus_max'], got)

    first_report = step_number(sc, 'report')
    for dev in sc.get('device', []):
        if 'expect' in dev:
            expect(dev['id'], dev['expect'], first_report)
    for disk in sc.get('disk', []):
        expect(disk['id'], disk['expect'], first_report)
        if disk['expect']['dma'] != 'skip':
            dma(disk['id'], disk['expect']['dma'], find_dma(recs, disk['id']))
        irq_cpus(disk['id'], disk['expect'], find_dma(recs, disk['id']))
    for hp in sc.get('hotplug', []):
        hid = hp['id']
        j.add(f'{hid}.hotplug', 'ready',
              plug_result(recs, hid, plugged.get(hid)))
        step = step_number(sc, f'hotplug {scn.plugging_step_id(sc, hid)}')
        expect(hid, hp['expect'], step_number(sc, 'report', step))
        if hp['expect']['dma'] != 'skip':
            dma(hid, hp['expect']['dma'], find_dma(recs, hid))
        irq_cpus(hid, hp['expect'], find_dma(recs, hid))
    for chk in sc.get('check', []):
        n, ident = chk['step'], chk['id']
        if 'err' in chk:
            rec = next((r for r in recs if r['kind'] == 'step' and
                        r.get('step') == str(n)), None)
            j.add(f'{ident}.err@{n}', chk['err'],
                  rec.get('err', rec.get('rc')) if rec else 'not-reported')
        elif 'dma' in chk:
            dma(ident, chk['dma'], find_dma(recs, ident, n), f'@{n}')
        else:
            expect(ident, chk, n, f'@{n}')
    for n, step in enumerate(scn.steps(sc), 1):
        if step.split()[0] == 'stress':
            judge_stress(j, sc, recs, n, step.split()[1:])
        if step.split()[:2] == ['exec', REPORT_TOOL]:
            judge_report_tool(j, sc, recs, n)
    if scn.KSELFTEST_STEP in scn.steps(sc):
        j.add('kselftest', scn.kselftest_expect(sc), kselftest_result(recs))
    bad, missing = log_findings(console, sc)
    j.add('log.forbidden', [], bad[:5])
    if sc.get('log', {}).get('require'):
        j.add('log.required', [], missing)
    if sc.get('log', {}).get('once') or sc.get('log', {}).get('forbid'):
        j.add('log.counted', [], log_counts(console, sc))
    return j.checks


# A group type switched fewer times than this during a stress step was not
# exercised under load.
MIN_FLIPS = 10


def judge_stress(j, sc, recs, n, args):
    """A stress step: every disk whose DMA check must pass (but the idle
    device) was loaded, with no mismatch and no I/O error; the idle
    device's group type was switched, each write read back."""
    flip = args[1] if len(args) > 1 else None
    got = {r['serial']: r for r in recs
           if r['kind'] == 'stress' and r.get('step') == str(n)}
    for disk in scn.disks(sc):
        if disk['expect']['dma'] != 'pass' or disk.get('bdf') == flip:
            continue
        r = got.get(disk['id'])
        if r is None:
            res = 'not-reported'
        elif r['mismatches'] != '0' or r['errors'] != '0':
            res = (f'mismatches={r["mismatches"]},errors={r["errors"]}:'
                   f'{r["detail"]}')
        else:
            res = 'clean' if int(r['ops']) > 0 else 'no-io'
        j.add(f'{disk["id"]}.stress@{n}', 'clean', res)
    if flip:
        r = next((r for r in recs if r['kind'] == 'flip' and
                  r.get('step') == str(n)), None)
        if r is None:
            res = 'not-reported'
        elif r['errors'] != '0':
            res = f'errors={r["errors"]}:{r["detail"]}'
        else:
            res = ('clean' if int(r['writes']) >= MIN_FLIPS else
                   f'writes={r["writes"]}')
        j.add(f'flip.{flip}@{n}', 'clean', res)
        # Writing "auto" afterwards gives back the type chosen at boot.
        idle = next((d for d in scn.disks(sc) if d.get('bdf') == flip), None)
        if idle and 'group' in idle['expect']:
            j.add(f'flip.{flip}.auto@{n}', idle['expect']['group'],
                  r['final'] if r else 'not-reported')
    r = next((r for r in recs if r['kind'] == 'step' and
              r.get('step') == str(n)), None)
    j.add(f'stress.rc@{n}', 'ok', r['rc'] if r else 'not-reported')


# The series' report tool (tools/iommu), as the initramfs holds it.
REPORT_TOOL = '/vb/iommu_report'


def report_rows(lines):
    """iommu_report's table: {BDF: {COLUMN: value}}; the reason, last,
    may contain blanks."""
    if not lines or not lines[0].startswith('DEVICE'):
        return {}
    cols = lines[0].split()
    rows = {}
    for line in lines[1:]:
        vals = line.split(None, len(cols) - 1)
        if len(vals) == len(cols):
            rows[vals[0]] = dict(zip(cols, vals))
    return rows


def judge_report_tool(j, sc, recs, n):
    """iommu_report run as step n lists every device of the guest's last
    report before it, with the same group, group type and translation."""
    rec = next((r for r in recs if r['kind'] == 'step' and
                r.get('step') == str(n)), None)
    rows = report_rows(rec.get('output', []) if rec else [])
    prev = max((int(r['step']) for r in recs if r['kind'] == 'dev' and
                int(r['step']) < n), default=None)
    diffs = []
    for dev in (r for r in recs if r['kind'] == 'dev' and
                int(r['step']) == prev):
        row = rows.get(dev['bdf'])
        if row is None:
            diffs.append(f'{dev["bdf"]}:missing')
            continue
        grouped = dev['group'] != 'none'
        want = {'GROUP': dev['group'] if grouped else '-',
                'TYPE': dev['type'] if grouped else '-'}
        if grouped:
            want['TRANSLATION'] = 'translated'
        elif row['TRANSLATION'] == 'translated':
            want['TRANSLATION'] = 'not translated'
        for col, val in want.items():
            if row.get(col) != val:
                diffs.append(f'{dev["bdf"]}:{col}={row.get(col)}!={val}')
    if prev is None or not rows:
        diffs = ['no-report' if prev is None else 'no-table']
    j.add(f'iommu_report@{n}', [], diffs[:6])


def dma_result(rec, meta, image):
    """pass only when both directions matched end to end."""
    if rec is None:
        return 'not-reported'
    if rec['read'] == 'absent':
        return 'absent'
    if rec['read'] != 'pass' or rec['write'] != 'pass':
        return f'read={rec["read"]},write={rec["write"]}:{rec["detail"]}'
    size, _, seed = meta
    off = dmadata.verify_image(image, seed, size)
    if off is not None:
        return f'host-verify-mismatch@{off}'
    return 'pass'


def outcome(sc, checks):
    """'pass', 'fail', 'xfail' or 'xpass' for the whole scenario."""
    failed = {c['name'] for c in checks if not c['ok']}
    xf = sc.get('xfail')
    if not xf:
        return 'pass' if not failed else 'fail'
    listed = set(xf['checks'])
    if failed - listed:
        return 'fail'          # failed in a way the xfail does not cover
    if failed == listed:
        return 'xfail'
    return 'xpass'             # some of the known failures are gone


def run_dir(sc, base):
    return os.path.join(os.environ.get('VB_RUNS') or
                        os.path.join(BUILD, 'runs'),
                        bases.run_dir(base, sc['name']))


def result(sc, base, run, checks, **extra):
    """The record of a boot, as result.json keeps it."""
    res = {'scenario': sc['name'], 'description': sc['description'],
           'arch': sc['arch'], 'base': base, 'qemu': scn.qemu_version(sc),
           'seconds': 0, 'qemu_rc': None, 'outcome': outcome(sc, checks),
           'checks': checks, 'devices': [], 'dma': [], 'steps': [],
           'hotplug': {}, 'xfail': sc.get('xfail'),
           'dma_skip': sc.get('dma_skip'),
           'run_dir': os.path.relpath(run, ROOT), **extra}
    with open(os.path.join(run, 'result.json'), 'w') as f:
        json.dump(res, f, indent=1)
    return res


def boot(sc, quiet=False, extra_cmdline='', base=bases.DEFAULT, seed=None):
    """Boot a scenario with the test kernel of base and judge it.  seed:
    the master seed of the disks' contents (default: a fresh one; each
    result keeps its seed, so that a failing boot can be replayed)."""
    seed = dmadata.master_seed() if seed is None else seed
    sc = scn.for_base(sc, base)
    arch = ARCHES[sc['arch']]
    run = run_dir(sc, base)
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    try:
        qemu, env = qemu_launch(sc)
    except QemuMissing as e:
        # Not a crash of make check: this scenario fails, saying why.
        res = result(sc, base, run, [{'name': 'boot.qemu', 'want': 'present',
                                      'got': str(e), 'ok': False}])
        if not quiet:
            print_result(sc, res)
        return res
    images, meta = {}, {}
    rng = random.Random(seed)
    for disk in scn.disks(sc):
        path = os.path.join(run, f'{disk["id"]}.img')
        h, wseed = dmadata.make_image(path, disk['bytes'], rng)
        images[disk['id']] = path
        if disk['expect']['dma'] != 'skip':
            meta[disk['id']] = (disk['bytes'], h, wseed)
    plan = make_plan(sc, meta, arch.channel_dev)
    initrd = os.path.join(run, 'initramfs.cpio')
    with open(base_initramfs(sc['arch']), 'rb') as f:
        common = f.read()
    with open(initrd, 'wb') as f:
        # The common archive holds /vb (and the kselftest in it).
        f.write(common + cpio.archive([('vb/plan', 'file', plan.encode())],
                                           cpio.PLAN_INO))
    with open(os.path.join(run, 'plan'), 'w') as f:
        f.write(plan)
    append = ' '.join(filter(None, [
        f'console={arch.console}', 'panic=-1', 'hung_task_panic=1',
        arch.nmi_cmdline, bases.BASES[base].panic_info_cmdline,
        'kunit.enable=0', scn.cmdline(sc), extra_cmdline]))
    paths = {k: os.path.join(run, k) for k in
             ('console.log', 'verdict.log', 'qemu.log', 'qmp.sock',
              'qmp.log', 'kselftest.tap')}
    args = scn.qemu_args(sc, kernel_image(sc['arch'], base), initrd, append,
                         paths['verdict.log'], paths['console.log'], images,
                         paths['qmp.sock'], qemu)
    with open(os.path.join(run, 'qemu.cmd'), 'w') as f:
        # With the environment QEMU 10 needs, so the line runs as it is.
        mods = (env or {}).get('QEMU_MODULE_DIR')
        f.write((f'QEMU_MODULE_DIR={shlex.quote(mods)} ' if mods else '') +
                shlex.join(args) + '\n')
    plugger = Hotplugger(sc, paths['qmp.sock'], paths['qmp.log'])
    # A guest still running at the timeout gets an NMI first, where the
    # arch can take one: its panic report says where it hung.
    dump = (functools.partial(inject_nmi, paths['qmp.sock'], paths['qmp.log'])
            if arch.nmi_cmdline else None)
    rc, secs, poweroff = run_qemu(args, sc.get('timeout', 300),
                                  paths['qemu.log'], paths['verdict.log'],
                                  plugger if sc.get('hotplug') else None,
                                  env, dump)
    # A QEMU that stopped before opening its console fails the boot's
    # checks (its qemu.log says why) rather than make check.
    console = _read_text(paths['console.log'])
    recs = parse_verdict(paths['verdict.log'])
    tap = [r['line'] for r in recs if r['kind'] == 'ktap']
    if tap:
        with open(paths['kselftest.tap'], 'w') as f:
            f.write('\n'.join(tap) + '\n')
    checks = judge(sc, recs, console, rc, meta, images, plugger.results)
    checks.insert(1, {'name': 'boot.poweroff', 'want': 'clean',
                      'got': poweroff, 'ok': poweroff == 'clean'})
    res = result(sc, base, run, checks, seed=f'{seed:#x}',
                 seconds=round(secs, 1), qemu_rc=rc,
                 console_excerpt=(console_excerpt(console)
                                  if not checks[0]['ok']
                                  else []),
                 devices=[r for r in recs if r['kind'] == 'dev'],
                 dma=[r for r in recs if r['kind'] == 'dma'],
                 steps=[r for r in recs if r['kind'] in
                        ('step', 'bind', 'hotplug', 'kselftest')],
                 hotplug=plugger.results)
    if not quiet:
        print_result(sc, res)
    return res


# The first line of a kernel report that explains a boot which never
# reached its end: a hung task, a lockup, an oops or a panic.
REPORT_START = re.compile(r'INFO: task .* blocked for more than|'
                          r'watchdog: BUG:|BUG:|WARNING:|Oops:|'
                          r'Kernel panic')
# A task in D state as a panic's blocked-task list (or sysrq-w) shows it.
BLOCKED_TASK = re.compile(r'\btask:\S+\s+state:D\b')
UNRELIABLE_FRAME = re.compile(r'\]\s+\? ')


def console_excerpt(console, report_lines=30, tail_lines=10,
                    task_lines=30):
    """What to show of the console of a boot that did not complete: the
    first kernel report and what follows it, else the last lines; then
    the first blocked task's stack from a panic report (the NMI's), its
    unreliable "? " frames left out.  The run directory may be gone by
    the time anyone reads the output (CI works on a scratch clone), so
    this goes to the report itself."""
    lines = console.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if REPORT_START.search(line)), None)
    shown = (lines[start:start + report_lines] if start is not None
             else lines[-tail_lines:])
    task = next((i for i, line in enumerate(lines)
                 if BLOCKED_TASK.search(line)), None)
    if task is not None and lines[task] not in shown:
        stack = [line for line in lines[task:]
                 if not UNRELIABLE_FRAME.search(line)]
        shown += ['...'] + stack[:task_lines]
    return shown


def print_result(sc, res):
    """The device table of each report step, with the DMA results of the
    dma step that follows it; other steps as one line each."""
    print(f'== {sc["name"]}: {sc["description"]}')
    print(f'   kernel {res["base"]}, qemu {res["qemu"]} '
          f'{" ".join(sc["machine"].split(",")[:1])}'
          f'{" + " + sc["iommu"] if sc.get("iommu") else ""}'
          f'  cmdline: {scn.cmdline(sc)}')
    if 'seed' in res:
        print(f'   disks from seed {res["seed"]} (boot.py --seed '
              f'{res["seed"]} replays them)')
    shown = set()
    reports = sorted({int(d['step']) for d in res['devices']})
    for n, step in enumerate(scn.steps(sc), 1):
        devs = [d for d in res['devices'] if d.get('step') == str(n)]
        if devs:
            print(f'   step {n}: {step}')
            until = next((m for m in reports if m > n), len(scn.steps(sc)))
            print_table(res, devs, range(n + 1, until + 1), shown)
        for r in res['dma']:
            if r.get('step') == str(n) and id(r) not in shown:
                print(f'   step {n}: dma {r["serial"]} {r["bdf"]}: '
                      f'read={r["read"]} write={r["write"]} '
                      f'({r["detail"]})')
        for r in res['steps']:
            if r.get('step') == str(n):
                print(f'   step {n}: {step_summary(r)}')
    if res.get('console_excerpt'):
        print('   the boot did not complete; its console:')
        for line in res['console_excerpt']:
            print(f'   | {line}')
    bad = [c for c in res['checks'] if not c['ok']]
    for c in bad:
        print(f'   FAILED {c["name"]}: expected {c["want"]!r}, '
              f'got {c["got"]!r}')
    if res['dma_skip']:
        print(f'   DMA checks skipped: {res["dma_skip"]}')
    if res['xfail']:
        print(f'   expected to fail: {res["xfail"]["reason"]}')
    print(f'   outcome: {res["outcome"]} ({len(res["checks"]) - len(bad)}'
          f'/{len(res["checks"])} checks, {res["seconds"]}s, '
          f'logs in {res["run_dir"]}/)')


def print_table(res, devs, dma_steps, shown):
    """One report's devices, with the DMA results of the first dma step
    among dma_steps (those records join shown)."""
    hdr = ('BDF', 'ID', 'DRIVER', 'GROUP', 'TYPE', 'IOMMU', 'IRQ',
           'SERIAL', 'DMA')
    later = [r for r in res['dma'] if int(r['step']) in dma_steps]
    rows = []
    for d in devs:
        r = next((r for r in later if r['serial'] == d['serial']), None)
        if r is None:
            dres = '-' if d['serial'] == '-' else 'not-checked'
        elif r['read'] == 'pass' and r['write'] == 'pass':
            names = (f'{r["serial"]}.dma@{r["step"]}', f'{r["serial"]}.dma')
            dres = next((c['got'] for c in res['checks']
                         if c['name'] in names), 'pass')
        else:
            dres = f'read={r["read"]},write={r["write"]}'
        if r is not None:
            shown.add(id(r))
        rows.append((d['bdf'], d['id'], d['driver'], d['group'],
                     d['type'] if d['group'] != 'none' else
                     'not-translated', d['iommu'], d['irq'], d['serial'],
                     dres))
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
    for row in [hdr] + rows:
        print('   ' + '  '.join(str(x).ljust(w)
                                for x, w in zip(row, widths)).rstrip())


def step_summary(rec):
    """One line for a bind, step, hotplug or kselftest record."""
    if rec['kind'] == 'bind':
        return f'guest bound held {rec["bdf"]} to virtio-pci: {rec["rc"]}'
    if rec['kind'] == 'hotplug':
        return (f'hotplug {rec["id"]} at {rec["bdf"]}: {rec["state"]} '
                f'after {rec["secs"]}s')
    if rec['kind'] == 'kselftest':
        return f'kselftest: exit {rec["rc"]}'
    text = ' '.join(f'{k}={v}' for k, v in rec.items()
                    if k not in ('kind', 'step', 'output'))
    return '\n'.join([text] + ['     ' + line
                               for line in rec.get('output', [])])


def main():
    install_signal_handlers()
    ap = argparse.ArgumentParser()
    ap.add_argument('scenario')
    ap.add_argument('--quiet', action='store_true')
    ap.add_argument('--cmdline', default='')
    ap.add_argument('--base', default=bases.DEFAULT, choices=bases.BASES)
    ap.add_argument('--qemu', help='one of the QEMUs the scenario lists '
                    '(default: its first)')
    ap.add_argument('--seed', type=lambda v: int(v, 0),
                    help="the disks' master seed of an earlier boot "
                    '(result.json, the table), to replay it')
    a = ap.parse_args()
    path = a.scenario
    if not os.path.exists(path):
        path = os.path.join(ROOT, 'scenarios', a.scenario + '.toml')
    try:
        sc = scn.load(path)
    except scn.ScenarioError as e:
        print(f'scenario error: {e}', file=sys.stderr)
        return 2
    if a.base not in scn.boot_bases(sc, every=True):
        print(f'scenario error: {path} is not booted on {a.base} (its bases: '
              f'{", ".join(scn.boot_bases(sc, every=True))})',
              file=sys.stderr)
        return 2
    try:
        sc = scn.for_qemu(sc, a.qemu or scn.qemu_version(sc))
    except scn.ScenarioError as e:
        print(f'scenario error: {e}', file=sys.stderr)
        return 2
    res = boot(sc, quiet=a.quiet, extra_cmdline=a.cmdline, base=a.base,
               seed=a.seed)
    return 0 if res['outcome'] in ('pass', 'xfail') else 1


if __name__ == '__main__':
    sys.exit(main())
