"""The kernel bases the series is kept on, and the pinned Debian packages.

Each base is a Debian binary package of kernel source, pinned by version:
the tarball it ships is the commit 'base' of that base's work tree.  The
packages come from Debian's archive through a private apt configuration
(harness/fetch-debs.sh), never from a change to the machine's sources.
"""
import os
from dataclasses import dataclass

# The base of the series to post; BASE= defaults to it everywhere.
DEFAULT = 'mainline'


@dataclass(frozen=True)
class Base:
    name: str
    tree: str           # work tree, relative to the repository
    patches: str        # the series generated from it
    package: str        # Debian package shipping the tarball
    version: str        # pinned version of that package
    tarball: str        # path of the tarball inside the package
    describe: str       # for the README and the cover letter
    verify: str         # the gates' fresh 'git am' of the series
    record: str         # make check-bisect's record for the series
    # What a KUnit boot adds to the command line: on mainline, built-in
    # suites also need kunit.autorun=1 (CONFIG_KUNIT_AUTORUN_ENABLED is
    # off in the harness's allnoconfig-based kernels), a parameter 6.12
    # does not know.
    kunit_cmdline: str = 'kunit.enable=1'
    # What a panic prints besides its own CPU's stack: every CPU's
    # backtrace and the blocked tasks (a boot hung in a killable wait,
    # which the hung task detector skips, shows there).  v7.3 names it
    # panic_sys_info= and calls panic_print= deprecated; 6.12 has only
    # the bitmask (0x40 all_bt, 0x80 blocked_tasks).
    panic_info_cmdline: str = 'panic_print=0xc0'
    # The topic series the export splits the series into (a TOML file,
    # relative to the repository: harness/cover.py), or '' for one series.
    topics: str = ''
    # Kernel parameters every boot of one arch gets, to keep a known fault
    # of this base, outside the series, out of the verdicts: (arch,
    # parameters) pairs.
    quirk_cmdline: tuple = ()

    def quirks(self, arch):
        """The quirk parameters of this base's boots on arch, or ''."""
        return ' '.join(params for a, params in self.quirk_cmdline
                        if a == arch)


def obj_dir(base, what):
    """An object directory of a base, relative to the repository:
    build/obj-WHAT for mainline (the names the harness always used),
    build/obj-BASE-WHAT for a backport, so no two bases share objects."""
    return 'build/obj-' + (what if base == DEFAULT else f'{base}-{what}')


def run_dir(base, name):
    """Where a boot of a base keeps its logs, under the runs folder:
    NAME for mainline, BASE/NAME for a backport."""
    return name if base == DEFAULT else os.path.join(base, name)


BASES = {
    'mainline': Base(
        name='mainline', tree='build/linux', patches='patches',
        package='linux-source-7.3', version='7.3~rc7-1~exp1',
        tarball='usr/src/linux-source-7.3.tar.xz',
        describe='v7.3-rc7 with Debian\'s patches (linux-source-7.3 '
                 '7.3~rc7-1~exp1, Debian experimental)',
        verify='build/verify', record='series/bisect-verified',
        kunit_cmdline='kunit.enable=1 kunit.autorun=1',
        panic_info_cmdline='panic_sys_info=all_bt,blocked_tasks',
        topics='series/topics.toml',
        # v7.3-rc7's clocksource watchdog checks the TSC's skew between
        # CPUs with interrupts off on both, bounding its wait for the other
        # CPU by the timekeeping clocksource.  Until the switch to tsc-early
        # (fs_initcall) that is jiffies, which stands still with interrupts
        # off; if the check starts while the other CPU waits, interrupts
        # off, in the stop_machine() of cache_aps_init() just after SMP
        # bring-up, neither CPU moves again until the harness's NMI.
        # Booted to PCI set-up: 2 of 100 boots hung so under QEMU 10, 0 of
        # 150 with tsc=nowatchdog (README).  Only the TSC asks to be watched
        # on x86 (CLOCK_SOURCE_MUST_VERIFY), so the watchdog has nothing to
        # run.  6.12 has no cross-CPU check.  Drop it once the base has the
        # fix.
        quirk_cmdline=(('x86_64', 'tsc=nowatchdog'),)),
    'deb12': Base(
        name='deb12', tree='build/linux-deb12', patches='backport/deb12',
        package='linux-source-6.12', version='6.12.117-1~deb12u1',
        tarball='usr/src/linux-source-6.12.tar.xz',
        describe='6.12.117 as Debian 12 ships it (linux-source-6.12 '
                 '6.12.117-1~deb12u1)',
        verify='build/verify-deb12', record='backport/deb12/bisect-verified'),
}

# Trees that only make bench builds, never checked or exported: v1 of the
# 6.12 backport, frozen (bench/v1-deb12/), for the matching cost of v1's
# parser beside v2's (harness/bench.py).
BENCH = {
    'v1-deb12': Base(
        name='v1-deb12', tree='build/linux-v1-deb12',
        patches='bench/v1-deb12',
        package='linux-source-6.12', version='6.12.117-1~deb12u1',
        tarball='usr/src/linux-source-6.12.tar.xz',
        describe='v1 of the series on 6.12.117 (linux-source-6.12 '
                 '6.12.117-1~deb12u1), frozen for make bench',
        verify='build/verify-v1-deb12', record='build/v1-deb12.bisect'),
}


def get(name):
    """A base by name: a checked one (BASES) or a benchmark's (BENCH)."""
    return BASES[name] if name in BASES else BENCH[name]


# QEMU 10 beside Debian 12's own 7.2: only it boots intel-iommu,eim=on
# under TCG.  Extracted into build/qemu-10 by harness/fetch-debs.sh.
QEMU10 = {
    'version': '1:10.0.2+ds-2+deb13u1~bpo12+1',
    'packages': ('qemu-system-x86', 'qemu-system-data', 'qemu-system-common'),
    'dir': 'build/qemu-10',
    # qemu-system-x86 only: a scenario of another arch cannot ask for it.
    'arches': ('x86_64',),
}

# make deb: Debian's own kernel of the backport's base, pinned.  Its
# config (the package ships it in /boot) is where the packaged backport's
# config starts (harness/deb.sh); the package itself goes into the scratch
# root beside the packaged backport, as on a Debian 12 guest.
DEB_KERNEL = {
    'package': 'linux-image-6.12.117+deb12-amd64-unsigned',
    'version': '6.12.117-1~deb12u1',
    'release': '6.12.117+deb12-amd64',
    'base': 'deb12',
    'arch': 'x86_64',
    # The scratch root: Debian 12 itself, minbase, with what installing a
    # kernel needs (initramfs-tools makes the initramfs, the way a Debian
    # guest does; busybox, which a Debian install has from
    # initramfs-tools' Recommends, goes into it as on a guest; zstd
    # compresses it, initramfs-tools' default).
    'suite': 'bookworm',
    'mirror': 'http://deb.debian.org/debian',
    'root_packages': ('initramfs-tools', 'busybox', 'kmod', 'zstd'),
}

if __name__ == '__main__':
    import sys
    # For harness/lib.sh: "NAME" gives one line of fields without blanks,
    # "NAME obj WHAT" an object directory.
    if sys.argv[1] not in BASES and sys.argv[1] not in BENCH:
        sys.exit(f'error: unknown BASE={sys.argv[1]} (one of: '
                 f'{" ".join(list(BASES) + list(BENCH))})')
    b = get(sys.argv[1])
    if sys.argv[2:3] == ['obj']:
        print(obj_dir(b.name, sys.argv[3]))
    else:
        print(b.tree, b.patches, b.package, b.version, b.verify, b.record)
