#!/usr/bin/env python3
"""Boot one scenario under QEMU and judge it against its expectations.

Usage: boot.py [--quiet] [--json FILE] SCENARIO.toml

Everything the boot produced stays in build/runs/NAME/: the QEMU command
line, the console log, the verdict channel's lines, the disk images and
result.json.  The exit status is 0 when the scenario met its expectations
(or failed exactly as its xfail says), 1 otherwise.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import cpio
import dmadata
import scenario as scn
from arches import ARCHES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, 'build')


def kernel_image(arch):
    a = ARCHES[arch]
    return os.path.join(BUILD, f'obj-{a.name}', a.image)


def base_initramfs(arch):
    return os.path.join(BUILD, f'initramfs-{arch}.cpio')


def make_plan(sc, images_meta, out_dev):
    lines = [f'out {out_dev}', f'timeout {sc.get("io_timeout", 60)}']
    for did, (size, h, seed) in images_meta.items():
        lines.append(f'disk {did} {size} {h:016x} {seed:016x}')
    lines += scn.steps(sc)
    return '\n'.join(lines) + '\n'


POWEROFF_GRACE = 30     # seconds from the guest's "VB end" to QEMU's exit


def run_qemu(args, timeout, log_path, verdict_path):
    """Run QEMU under two watchdogs: the scenario's timeout, and a grace
    period for power-off once the guest has said its last line.

    Returns (exit code or None if killed, seconds, power-off state), the
    state being 'clean', 'hung' (killed after VB end) or 'not-reached'."""
    t0 = time.monotonic()
    ended = None
    killed = False
    with open(log_path, 'wb') as err:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err,
                             stderr=subprocess.STDOUT,
                             start_new_session=True)
        while p.poll() is None:
            now = time.monotonic()
            if ended is None and _said_end(verdict_path):
                ended = now
            if now - t0 > timeout or (ended and now - ended > POWEROFF_GRACE):
                _kill(p)
                killed = True
                break
            time.sleep(0.5)
    secs = time.monotonic() - t0
    if killed:
        return None, secs, 'hung' if ended else 'not-reached'
    return p.returncode, secs, ('clean' if _said_end(verdict_path)
                                else 'not-reached')


def _said_end(path):
    try:
        with open(path, 'rb') as f:
            return b'VB end' in f.read()
    except OSError:
        return False


def _kill(p):
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def parse_verdict(path):
    """The guest's VB lines as dicts, in order."""
    recs = []
    try:
        with open(path, errors='replace') as f:
            text = f.read()
    except OSError:
        return recs
    for line in text.replace('\r', '').split('\n'):
        if not line.startswith('VB '):
            continue
        words = line.split()
        rec = {'kind': words[1]}
        for w in words[2:]:
            k, _, v = w.partition('=')
            rec[k] = v
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


class Judge:
    """Collects named checks: (name, expected, got, ok)."""

    def __init__(self):
        self.checks = []

    def add(self, name, want, got):
        ok = want == got
        self.checks.append({'name': name, 'want': want, 'got': got,
                            'ok': ok})
        return ok


def judge(sc, recs, console, rc, images_meta, images):
    j = Judge()
    devs = [r for r in recs if r['kind'] == 'dev']
    by_bdf = {d.get('bdf'): d for d in devs}
    by_serial = {d.get('serial'): d for d in devs if d.get('serial') != '-'}
    dmas = {r.get('serial'): r for r in recs if r['kind'] == 'dma'}
    j.add('boot.verdict', 'complete',
          'complete' if any(r['kind'] == 'end' for r in recs) else
          ('qemu-timeout' if rc is None else f'incomplete(rc={rc})'))

    def expect(ident, dev, exp):
        if 'group' in exp:
            got = 'absent' if dev is None else (
                'none' if dev['group'] == 'none' else dev['type'])
            j.add(f'{ident}.group', exp['group'], got)
        for key in ('irq', 'driver'):
            if key in exp:
                j.add(f'{ident}.{key}', exp[key],
                      'absent' if dev is None else dev[key])

    for dev in sc.get('device', []):
        if 'expect' in dev:
            expect(dev['id'], by_bdf.get(dev['bdf']), dev['expect'])
    for disk in sc.get('disk', []):
        did = disk['id']
        exp = disk['expect']
        # By serial; by BDF when the guest could not read the serial (no
        # virtio-blk driver, or a device that never answers).
        dev = by_serial.get(did) or by_bdf.get(disk.get('bdf'))
        expect(did, dev, exp)
        if exp['dma'] == 'skip':
            continue
        j.add(f'{did}.dma', exp['dma'],
              dma_result(dmas.get(did), images_meta.get(did), images[did]))
    bad, missing = log_findings(console, sc)
    j.add('log.forbidden', [], bad[:5])
    if sc.get('log', {}).get('require'):
        j.add('log.required', [], missing)
    return j.checks


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


def boot(sc, quiet=False, extra_cmdline=''):
    arch = ARCHES[sc['arch']]
    run = os.path.join(BUILD, 'runs', sc['name'])
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    images, meta = {}, {}
    for disk in sc.get('disk', []):
        path = os.path.join(run, f'{disk["id"]}.img')
        h, seed = dmadata.make_image(path, disk['bytes'])
        images[disk['id']] = path
        if disk['expect']['dma'] != 'skip':
            meta[disk['id']] = (disk['bytes'], h, seed)
    plan = make_plan(sc, meta, arch.channel_dev)
    initrd = os.path.join(run, 'initramfs.cpio')
    with open(base_initramfs(sc['arch']), 'rb') as f:
        base = f.read()
    with open(initrd, 'wb') as f:
        f.write(base + cpio.archive([('vb', 'dir', b''),
                                     ('vb/plan', 'file', plan.encode())]))
    with open(os.path.join(run, 'plan'), 'w') as f:
        f.write(plan)
    append = ' '.join(filter(None, [
        f'console={arch.console}', 'panic=-1', 'kunit.enable=0',
        scn.cmdline(sc), extra_cmdline]))
    paths = {k: os.path.join(run, k) for k in
             ('console.log', 'verdict.log', 'qemu.log', 'qmp.sock')}
    args = scn.qemu_args(sc, kernel_image(sc['arch']), initrd, append,
                         paths['verdict.log'], paths['console.log'], images,
                         paths['qmp.sock'])
    with open(os.path.join(run, 'qemu.cmd'), 'w') as f:
        f.write(shlex.join(args) + '\n')
    rc, secs, poweroff = run_qemu(args, sc.get('timeout', 300),
                                  paths['qemu.log'], paths['verdict.log'])
    with open(paths['console.log'], errors='replace') as f:
        console = f.read()
    recs = parse_verdict(paths['verdict.log'])
    checks = judge(sc, recs, console, rc, meta, images)
    checks.insert(1, {'name': 'boot.poweroff', 'want': 'clean',
                      'got': poweroff, 'ok': poweroff == 'clean'})
    res = {'scenario': sc['name'], 'description': sc['description'],
           'arch': sc['arch'], 'seconds': round(secs, 1), 'qemu_rc': rc,
           'outcome': outcome(sc, checks), 'checks': checks,
           'devices': [r for r in recs if r['kind'] == 'dev'],
           'dma': [r for r in recs if r['kind'] == 'dma'],
           'steps': [r for r in recs if r['kind'] in ('step', 'bind')],
           'xfail': sc.get('xfail'), 'dma_skip': sc.get('dma_skip'),
           'run_dir': os.path.relpath(run, ROOT)}
    with open(os.path.join(run, 'result.json'), 'w') as f:
        json.dump(res, f, indent=1)
    if not quiet:
        print_result(sc, res)
    return res


def print_result(sc, res):
    print(f'== {sc["name"]}: {sc["description"]}')
    print(f'   qemu {" ".join(sc["machine"].split(",")[:1])}'
          f'{" + " + sc["iommu"] if sc.get("iommu") else ""}'
          f'  cmdline: {scn.cmdline(sc)}')
    for b in res['steps']:
        if b['kind'] == 'bind':
            print(f'   guest bound held {b["bdf"]} to virtio-pci: {b["rc"]}')
    hdr = ('BDF', 'ID', 'DRIVER', 'GROUP', 'TYPE', 'IOMMU', 'IRQ',
           'SERIAL', 'DMA')
    dma = {d['serial']: d for d in res['dma']}
    rows = []
    for d in res['devices']:
        r = dma.get(d['serial'])
        if r is None:
            dres = '-' if d['serial'] == '-' else 'not-checked'
        elif r['read'] == 'pass' and r['write'] == 'pass':
            dres = next((c['got'] for c in res['checks']
                         if c['name'] == f'{d["serial"]}.dma'), 'pass')
        else:
            dres = f'read={r["read"]},write={r["write"]}'
        rows.append((d['bdf'], d['id'], d['driver'], d['group'],
                     d['type'] if d['group'] != 'none' else
                     'not-translated', d['iommu'], d['irq'], d['serial'],
                     dres))
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
    for row in [hdr] + rows:
        print('   ' + '  '.join(str(x).ljust(w)
                                for x, w in zip(row, widths)).rstrip())
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('scenario')
    ap.add_argument('--quiet', action='store_true')
    ap.add_argument('--cmdline', default='')
    a = ap.parse_args()
    path = a.scenario
    if not os.path.exists(path):
        path = os.path.join(ROOT, 'scenarios', a.scenario + '.toml')
    try:
        sc = scn.load(path)
    except scn.ScenarioError as e:
        print(f'scenario error: {e}', file=sys.stderr)
        return 2
    res = boot(sc, quiet=a.quiet, extra_cmdline=a.cmdline)
    return 0 if res['outcome'] in ('pass', 'xfail') else 1


if __name__ == '__main__':
    sys.exit(main())
