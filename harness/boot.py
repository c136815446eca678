#!/usr/bin/env python3
"""Boot one scenario under QEMU and judge it against its expectations.

Usage: boot.py [--quiet] [--base BASE] [--qemu Q] [--seed S] [--cmdline ARGS]
               SCENARIO

The kernel is the test kernel of a base (harness/bases.py): mainline's
build/obj-ARCH by default, --base deb12 the backport's build/obj-deb12-ARCH;
a scenario with package = true boots make deb's packaged backport with its
initramfs (launch.packaged_kernel()).
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
import os
import random
import shlex
import shutil
import sys

import acpi
import bases
import cpio
import dmadata
import rootdisk
import scenario as scn
from arches import ARCHES
from judges import console_excerpt, judge
from launch import (DEFAULTS, PACKAGE_ROOT, ROOT, PackageMissing,
                    QemuMissing, Settings, base_initramfs, kernel_image,
                    make_plan, packaged_kernel, qemu_launch, run_dir)
from records import parse_verdict
from report import print_result, result
from supervise import (Hotplugger, inject_nmi, install_signal_handlers,
                       read_text, run_qemu)


def boot(sc, quiet=False, extra_cmdline='', base=bases.DEFAULT, seed=None,
         settings=DEFAULTS):
    """Boot a scenario with the test kernel of base and judge it.  seed:
    the master seed of the disks' contents (default: a fresh one; each
    result keeps its seed, so that a failing boot can be replayed)."""
    seed = dmadata.master_seed() if seed is None else seed
    sc = scn.for_base(sc, base)
    arch = ARCHES[sc['arch']]
    run = run_dir(sc, base, settings)
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    try:
        qemu, env = qemu_launch(sc)
        # package = true: make deb's kernel and its initramfs-tools
        # initramfs instead of the base's test kernel.
        package = (packaged_kernel(settings.package_root or PACKAGE_ROOT)
                   if sc.get('package') else None)
    except (QemuMissing, PackageMissing) as e:
        # Not a crash of make check: this scenario fails, saying why.
        what = 'boot.qemu' if isinstance(e, QemuMissing) else 'boot.package'
        res = result(sc, base, run, [{'name': what, 'want': 'present',
                                      'got': str(e), 'ok': False}])
        if not quiet:
            print_result(sc, res)
        return res
    images, meta = {}, {}
    rng = random.Random(seed)
    root = scn.root_disk(sc)
    for disk in scn.disks(sc):
        path = os.path.join(run, f'{disk["id"]}.img')
        if disk is root:
            # Its data goes into its file system, below, once the plan is
            # written: the same rng draws as for any disk.
            path = os.path.join(run, f'{disk["id"]}.data')
        h, wseed = dmadata.make_image(path, disk['bytes'], rng)
        images[disk['id']] = path
        if disk['expect']['dma'] != 'skip':
            meta[disk['id']] = (disk['bytes'], h, wseed)
    files = {root['id']: rootdisk.DATA_PATH} if root else {}
    plan = make_plan(sc, meta, arch.channel_dev, files)
    with open(base_initramfs(sc['arch'], settings), 'rb') as f:
        common = f.read()
    boot_args = ''
    if root:
        # No initramfs: the kernel mounts the boot disk and runs vbinit
        # from it.  A packaged kernel's initramfs (initramfs-tools) loads
        # the modules and mounts it, then runs vbinit from it (init=).
        initrd = package[1] if package else None
        sig = rootdisk.signature(rng)
        with open(images[root['id']], 'rb') as f:
            data = f.read()
        images[root['id']] = os.path.join(run, f'{root["id"]}.img')
        rootdisk.make(images[root['id']], common, plan.encode(), data, sig)
        boot_args = rootdisk.cmdline(sig)
    else:
        initrd = os.path.join(run, 'initramfs.cpio')
        with open(initrd, 'wb') as f:
            # The common archive holds /vb (and the kselftest in it).
            f.write(common + cpio.archive(
                [('vb/plan', 'file', plan.encode())], cpio.PLAN_INO))
    with open(os.path.join(run, 'plan'), 'w') as f:
        f.write(plan)
    append = ' '.join(filter(None, [boot_args, 
        f'console={arch.console}', 'panic=-1', 'hung_task_panic=1',
        arch.nmi_cmdline, bases.BASES[base].quirks(arch.name),
        bases.BASES[base].panic_info_cmdline,
        'kunit.enable=0', scn.cmdline(sc), extra_cmdline]))
    paths = {k: os.path.join(run, k) for k in
             ('console.log', 'verdict.log', 'qemu.log', 'qmp.sock',
              'qmp.log', 'kselftest.tap')}
    tables = []
    ports = scn.external_facing_ports(sc)
    if ports:
        tables.append(os.path.join(run, 'ssdt-external-facing.aml'))
        with open(tables[-1], 'wb') as f:
            f.write(acpi.external_facing_ssdt(ports))
    image = package[0] if package else kernel_image(sc['arch'], base,
                                                    settings)
    args = scn.qemu_args(sc, image, initrd, append,
                         paths['verdict.log'], paths['console.log'], images,
                         paths['qmp.sock'], qemu, tables)
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
    console = read_text(paths['console.log'])
    recs = parse_verdict(paths['verdict.log'])
    tap = [r['line'] for r in recs if r['kind'] == 'ktap']
    if tap:
        with open(paths['kselftest.tap'], 'w') as f:
            f.write('\n'.join(tap) + '\n')
    if root:
        # Judged on the data file as the guest left it in its file system
        # (a missing file fails its DMA check as a missing image would).
        img = images[root['id']]
        images[root['id']] = os.path.join(run, f'{root["id"]}.data')
        rootdisk.extract(img, images[root['id']])
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
    env = Settings.from_environ(os.environ)
    ap.add_argument('--obj-dir', default=env.obj_dir,
                    help='boot the kernel of this object directory '
                    '(default: the base\'s; VB_OBJ_DIR)')
    ap.add_argument('--initramfs', default=env.initramfs,
                    help='another initramfs (VB_INITRAMFS)')
    ap.add_argument('--runs', default=env.runs,
                    help='where run directories go (default: build/runs; '
                    'VB_RUNS)')
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
               seed=a.seed, settings=Settings(obj_dir=a.obj_dir,
                                              initramfs=a.initramfs,
                                              runs=a.runs))
    return 0 if res['outcome'] in ('pass', 'xfail') else 1



if __name__ == '__main__':
    sys.exit(main())
