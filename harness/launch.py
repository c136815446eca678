"""Launch: what a boot is made of before QEMU starts.

The kernel image and initramfs of a base, the QEMU binary a scenario
names (with its environment), the guest's plan, and where the run's
files go.  Nothing here runs QEMU or reads what a guest said.
"""
import os
from dataclasses import dataclass

import bases
import kconfig_check
import scenario as scn
from arches import ARCHES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, 'build')


@dataclass(frozen=True)
class Settings:
    """Where a boot takes its kernel and initramfs from and puts its run
    directory, when not the defaults: an argument of boot.boot(), read
    from the command line (and VB_* variables) by the programs only."""
    obj_dir: str = ''       # a kernel's object directory (the stock tree's)
    initramfs: str = ''     # another initramfs (make bench's)
    runs: str = ''          # where run directories go (build/runs)
    # make deb's scratch root, whose /boot holds the packaged kernel
    # (PACKAGE_ROOT); the self-test points it elsewhere.
    package_root: str = ''

    @classmethod
    def from_environ(cls, environ):
        return cls(obj_dir=environ.get('VB_OBJ_DIR', ''),
                   initramfs=environ.get('VB_INITRAMFS', ''),
                   runs=environ.get('VB_RUNS', ''))


DEFAULTS = Settings()


def kernel_image(arch, base=bases.DEFAULT, settings=DEFAULTS):
    """The test kernel of a base (make kernel-ARCH, make
    kernel-deb12-ARCH), or the one in settings.obj_dir (an object
    directory, e.g. of the stock tree)."""
    a = ARCHES[arch]
    objdir = settings.obj_dir or os.path.join(
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


# make deb's scratch Debian 12 root (harness/deb.sh), where dpkg installed
# the packaged backport beside Debian's own kernel.
PACKAGE_ROOT = os.path.join(BUILD, 'deb', 'root')


# The packaged kernel's release ends with configs/deb.config's
# CONFIG_LOCALVERSION (harness/deb.sh checks the build's, read with the
# same parser as every fragment); Debian's own in the same /boot does not.
PACKAGE_SUFFIX = kconfig_check.read(os.path.join(
    ROOT, 'configs', 'deb.config'))['CONFIG_LOCALVERSION'].strip('"')


class PackageMissing(Exception):
    pass


def packaged_kernel(root=PACKAGE_ROOT):
    """(vmlinuz, initrd.img) of the packaged backport as dpkg installed
    them in the scratch root: the kernel of the package and the initramfs
    its postinst had initramfs-tools make.  Raises PackageMissing unless
    exactly one such release is there."""
    boot = os.path.join(root, 'boot')
    try:
        rels = sorted(f[len('vmlinuz-'):] for f in os.listdir(boot)
                      if f.startswith('vmlinuz-') and
                      f.endswith(PACKAGE_SUFFIX))
    except OSError:
        rels = []
    if len(rels) != 1:
        raise PackageMissing(
            f'{os.path.relpath(boot, ROOT)} holds '
            f'{len(rels)} kernel(s) named *{PACKAGE_SUFFIX}, not one '
            f'(make deb builds and installs it)')
    paths = tuple(os.path.join(boot, f'{kind}-{rels[0]}')
                  for kind in ('vmlinuz', 'initrd.img'))
    if not os.path.isfile(paths[1]):
        raise PackageMissing(f'{os.path.relpath(paths[1], ROOT)} is '
                             f'missing: the package\'s postinst made no '
                             f'initramfs')
    return paths


def base_initramfs(arch, settings=DEFAULTS):
    """The initramfs of make initramfs, or settings.initramfs (make
    bench's, which also holds its tools)."""
    return (settings.initramfs or
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


def make_plan(sc, images_meta, out_dev, files=None):
    """The guest's plan.  files: {disk id: path} of disks whose DMA check
    runs on a file of the guest's file system (the boot disk)."""
    files = files or {}
    lines = [f'out {out_dev}', f'timeout {sc.get("io_timeout", 60)}']
    for did, (size, h, seed) in images_meta.items():
        lines.append(f'disk {did} {size} {h:016x} {seed:016x}' +
                     (f' {files[did]}' if did in files else ''))
    lines += [plan_step(sc, s) for s in scn.steps(sc)]
    return '\n'.join(lines) + '\n'


def run_dir(sc, base, settings=DEFAULTS):
    return os.path.join(settings.runs or
                        os.path.join(BUILD, 'runs'),
                        bases.run_dir(base, sc['name']))
