"""The harness's own tests: the parts whose mistakes would hide a failure.

- guest and host agree on the DMA check's data (vbinit.c vs dmadata.py),
  and the hash matches published FNV-1a test vectors;
- the scenario loader rejects malformed files with a message naming the
  problem (a typo must not drop an expectation);
- the KTAP reader finds passing, failing and missing suites;
- the xfail logic: exact failure -> xfail, extra failure -> fail, a fixed
  failure -> xpass;
- steps, [[hotplug]] and [[check]]: the plan the guest gets, the judging
  of each step apart, the kselftest verdict;
- the QMP client and the hot-plug watcher, against a fake QEMU monitor;
- the static gates' base/head comparison, tool failures included;
- apic_ids (the vCPU topology QEMU gets) and irq_cpus_max (a range);
- the two bases: which kernels a scenario boots with (bases, backport),
  which QEMU (qemu), where a base's kernel, runs and bisect record are,
  a missing QEMU 10 failing its scenario, and tests/kunit.toml's loader;
- the judges on real run directories (tests/fixtures/), and the changes
  to a console or a disk that each must fail.

On unittest: cd harness && python3 -m unittest selftest.  make check
calls run(), which gives one line per failing case.
"""
import functools
import json
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import tomllib
import unittest

import acpi
import bases
import bench
import cpio
import boot
import cover
import dmadata
import gates
import initramfs
import judges
import ktap
import launch
import outgoing
import recipe
import records
import rootdisk
import scenario as scn
import supervise

COUNT = 0

GOOD = '''description = "t"
arch = "x86_64"
machine = "q35"
[[disk]]
id = "d0"
bus = "pcie.0"
expect = { group = "none", dma = "pass" }
'''

# A second disk, for the boot disk's cases.
DISK2 = '''[[disk]]
id = "d1"
bus = "pcie.0"
root = true
expect = { group = "none", dma = "pass" }
'''

# (mutation of GOOD, text the error must contain)
BAD = [
    (GOOD.replace('bus = "pcie.0"\n', 'bus = "pcie.0"\nroot = 1\n'),
     '"root" must be bool'),
    (GOOD.replace('bus = "pcie.0"\n', 'bus = "pcie.0"\nroot = true\n') +
     DISK2, 'one boot disk at most (root = true on d0, d1)'),
    (GOOD.replace('x86_64', 'arm64').replace('q35', 'virt') + DISK2,
     'a boot disk needs x86_64'),
    (GOOD.replace('machine =', 'dma_skip = "r"\nmachine =') +
     DISK2.replace('dma = "pass"', 'dma = "skip"'),
     'the boot disk d1 needs its DMA check'),
    (GOOD.replace('machine = "q35"\n', 'machine = "q35"\n'
                  'cmdline_on = { deb13 = "a=1" }\n'), 'no base "deb13"'),
    (GOOD.replace('machine = "q35"\n', 'machine = "q35"\n'
                  'cmdline_on = { deb12 = 1 }\n'), 'must be a string'),
    (GOOD.replace('machine = "q35"\n', 'machine = "q35"\ncmdline = "a=1"\n'
                  'cmdline_on = { deb12 = "a=1" }\n'), 'the same as cmdline'),
    (GOOD.replace('machine = "q35"\n', 'machine = "q35"\npackage = true\n'
                  'bases = ["deb12"]\n'), 'package = true needs a boot disk'),
    (GOOD.replace('machine = "q35"\n', 'machine = "q35"\npackage = true\n')
     + DISK2, 'bases = ["deb12"] and arch = "x86_64"'),
    (GOOD.replace('machine = "q35"\n', 'machine = "q35"\npackage = 1\n'),
     '"package" must be bool'),
    (GOOD.replace('machine = "q35"\n', 'machine = "q35"\npackage = true\n'
                  'bases = ["deb12"]\nhold_disks = "h"\n') + DISK2,
     'hold_disks needs pci-stub built in'),
    (GOOD.replace('machine = "q35"\n', 'machine = "q35"\npackage = true\n'
                  'bases = ["deb12"]\nsteps = ["report", '
                  '"bind 0000:00:03.0 vfio-pci"]\n') + DISK2,
     'steps[1]: vfio-pci is a module'),
    (GOOD.replace('machine = "q35"\n', ''), 'missing "machine"'),
    (GOOD + 'machin = "q35"\n', 'unknown key "machin"'),
    (GOOD.replace('x86_64', 'mips'), 'unknown arch'),
    (GOOD.replace('group = "none"', 'group = "DMAFQ"'), 'group "DMAFQ"'),
    (GOOD.replace('dma = "pass"', 'dma = "ok"'), 'dma "ok"'),
    (GOOD.replace('dma = "pass"', 'dma = "pass", state = "translated"'),
     'state "translated"'),
    (GOOD.replace('dma = "pass"', 'dma = "pass", master = "1"'),
     'master "1"'),
    (GOOD.replace(', dma = "pass"', ''), 'states its dma result'),
    (GOOD.replace('dma = "pass"', 'dma = "skip"'), 'dma_skip reason'),
    (GOOD.replace('group =', 'gruop ='), 'unknown key "gruop"'),
    (GOOD.replace('id = "d0"', 'id = "d 0"'), 'short serial'),
    (GOOD + '[xfail]\nreason = "r"\nchecks = []\n', 'lists no checks'),
    (GOOD + '[log]\nallow = [ { match = "x" } ]\n', 'missing "reason"'),
    (GOOD + '[[device]]\nid = "r"\ndriver = "x"\nexpect = { irq = "MSI" }\n',
     'expect needs "bdf"'),
    (GOOD.replace('arch =', 'smp = "2"\narch ='), '"smp" must be int'),
    (GOOD.replace('arch =', 'smp = true\narch ='), '"smp" must be int'),
    (GOOD.replace('arch =', 'timeout = false\narch ='),
     '"timeout" must be int'),
    (GOOD + '[log]\nrequire = ["a(b"]\n', 'bad pattern "a(b"'),
    (GOOD + '[log]\nonce = [3]\n', 'a pattern is a string'),
    (GOOD + '[log]\nforbid = ["[x"]\n', 'bad pattern "[x"'),
    (GOOD + '[log]\nallow = [ { match = "*x", reason = "r" } ]\n',
     'bad pattern "*x"'),
    (GOOD + '[xfail]\nreason = "r"\nchecks = [1, 2]\n',
     'xfail.checks are check names'),
    (GOOD.replace('machine = "q35"', 'machine = "q35"\nfirmware = "edk2"'),
     'no firmware "edk2"'),
    (GOOD.replace('machine =', 'qemu = "9"\nmachine ='), 'qemu "9" not one'),
    (GOOD.replace('machine =', 'qemu = 10\nmachine ='), '"qemu" must be str'),
    (GOOD + '[[device]]\nid = "rp"\ndriver = "pcie-root-port"\n[[hotplug]]\n'
     'id = "h"\nbus = "rp"\nbdf = "0000:01:00.0"\nprops = "multifunction=1"'
     '\nexpect = { dma = "pass" }\n', 'bad value "1" for multifunction'),
    (GOOD.replace('machine =', 'qemu = ["10", "9"]\nmachine ='),
     'qemu "9" not one'),
    (GOOD.replace('machine =', 'qemu = ["10", "10"]\nmachine ='),
     'each QEMU once'),
    (GOOD.replace('machine =', 'qemu = []\nmachine ='), 'each QEMU once'),
    (GOOD.replace('machine =', 'qemu = ["10", 7]\nmachine ='),
     'qemu "7" not one'),
    (GOOD.replace('x86_64', 'arm64').replace('machine =', 'qemu = ["7.2", '
                                             '"10"]\nmachine ='),
     'qemu "10" is there for x86_64 only'),
    (GOOD.replace('machine =', 'qemu = ["10", "7.2"]\napic_ids = [0, 255]\n'
                  'machine ='), 'needs qemu "10"'),
    (GOOD.replace('x86_64', 'arm64').replace('machine =', 'qemu = "10"\n'
                                             'machine ='),
     'qemu "10" is there for x86_64 only'),
    (GOOD.replace('machine =', 'bases = ["mainline", "deb11"]\nmachine ='),
     'unknown base "deb11"'),
    (GOOD.replace('machine =', 'bases = ["mainline", 12]\nmachine ='),
     'unknown base "12"'),
    (GOOD.replace('machine =', 'bases = []\nmachine ='), 'each base once'),
    (GOOD.replace('machine =', 'bases = ["deb12", "deb12"]\nmachine ='),
     'each base once'),
    (GOOD.replace('machine =', 'bases = "deb12"\nmachine ='),
     '"bases" must be list'),
    (GOOD.replace('machine =', 'backport = "yes"\nmachine ='),
     '"backport" must be bool'),
    (GOOD.replace('machine =', 'backport = true\nbases = ["mainline"]\n'
                  'machine ='), 'bases lists no backport'),
    # expect_on: a known base, a key expect has, a valid value that differs.
    (GOOD.replace('dma = "pass" }', 'dma = "pass" }\nexpect_on = { deb11 = '
                  '{ group = "identity" } }'), 'no base "deb11"'),
    (GOOD.replace('dma = "pass" }', 'dma = "pass" }\nexpect_on = { deb12 = '
                  '{ irq = "MSI" } }'), '"irq" replaces no expect value'),
    (GOOD.replace('dma = "pass" }', 'dma = "pass" }\nexpect_on = { deb12 = '
                  '{ group = "none" } }'), 'is the same as expect'),
    (GOOD.replace('dma = "pass" }', 'dma = "pass" }\nexpect_on = { deb12 = '
                  '{ group = "DMAFQ" } }'), 'group "DMAFQ"'),
    (GOOD.replace('dma = "pass" }', 'dma = "pass" }\nexpect_on = { deb12 = '
                  '{} }'), 'non-empty table'),
    (GOOD.replace('machine =', 'pending = true\nmachine ='),
     '"pending" must be str'),
    # apic_ids: integers rising from 0, x86_64, one per vCPU.
    (GOOD.replace('machine =', 'apic_ids = 9\nmachine ='),
     '"apic_ids" must be list'),
    (GOOD.replace('machine =', 'apic_ids = []\nmachine ='), 'must be 0'),
    (GOOD.replace('machine =', 'apic_ids = [1, 9]\nmachine ='), 'must be 0'),
    (GOOD.replace('machine =', 'apic_ids = [0, "9"]\nmachine ='),
     'APIC IDs are integers'),
    (GOOD.replace('machine =', 'apic_ids = [0, true]\nmachine ='),
     'APIC IDs are integers'),
    (GOOD.replace('machine =', 'apic_ids = [0, 9, 9]\nmachine ='),
     'must rise strictly'),
    (GOOD.replace('machine =', 'apic_ids = [0, 9, 3]\nmachine ='),
     'must rise strictly'),
    (GOOD.replace('machine =', 'apic_ids = [0, -1]\nmachine ='),
     'must rise strictly'),
    (GOOD.replace('machine =', 'qemu = "10"\napic_ids = [0, 4096]\n'
                  'machine ='), '4096 is above 4095'),
    (GOOD.replace('machine =', 'apic_ids = [0, 255]\nmachine ='),
     'needs qemu "10"'),
    (GOOD.replace('machine =', 'apic_ids = [0, 9]\nsmp = 4\nmachine ='),
     '2 vCPUs, but smp = 4'),
    (GOOD.replace('x86_64', 'arm64').replace('machine =', 'apic_ids = [0, 1]'
                                             '\nmachine ='), 'x86_64 only'),
    # irq_cpus_max: a count from 1, on a disk with a DMA check, alone.
    (GOOD.replace('dma = "pass"', 'dma = "pass", irq_cpus_max = 0'),
     'irq_cpus_max must be at least 1'),
    (GOOD.replace('dma = "pass"', 'dma = "pass", irq_cpus_max = "1"'),
     '"irq_cpus_max" must be int'),
    (GOOD.replace('dma = "pass"', 'dma = "pass", irq_cpus = 1, '
                  'irq_cpus_max = 1'), 'not both'),
    (GOOD.replace('dma = "pass"', 'dma = "skip", irq_cpus_max = 1').replace(
        'machine =', 'dma_skip = "r"\nmachine ='),
     'irq_cpus_max needs a DMA check'),
]

# tests/kunit.toml: (text, what the error must contain); KUNIT_GOOD loads.
KUNIT_GOOD = '''[x86_64]
machine = "q35"
suites = ["a", "b"]
[x86_64.skips]
b = ["c1", "c2/p"]
[arm64]
machine = "virt"
suites = ["a"]
[deb12.x86_64]
suites = ["a"]
'''
KUNIT_BAD = [
    (KUNIT_GOOD + '[mips]\nmachine = "m"\nsuites = []\n',
     'unknown key "mips"'),
    (KUNIT_GOOD.replace('[arm64]\nmachine = "virt"\nsuites = ["a"]\n', ''),
     'arm64: expected a table'),
    (KUNIT_GOOD.replace('suites = ["a", "b"]', 'suites = ["a", "a"]'),
     'each once'),
    (KUNIT_GOOD.replace('suites = ["a", "b"]', 'suites = "a"'),
     '"suites" must be list'),
    (KUNIT_GOOD.replace('[deb12.x86_64]\n', '[deb12.x86_64]\nmachine = "pc"\n'),
     'deb12.x86_64: unknown key "machine"'),
    (KUNIT_GOOD.replace('[deb12.x86_64]', '[deb12.mips]'),
     'deb12: unknown key "mips"'),
    (KUNIT_GOOD + '[deb12.arm64]\nsuites = [1]\n', 'each once'),
    (KUNIT_GOOD.replace('b = ["c1", "c2/p"]', 'z = ["c1"]'),
     'skips of "z", which is not among its suites'),
    (KUNIT_GOOD.replace('b = ["c1", "c2/p"]', 'b = ["c1", "c1"]'),
     'skips of "b" are case names, each once'),
    (KUNIT_GOOD.replace('b = ["c1", "c2/p"]', 'b = "c1"'),
     'skips of "b" are case names, each once'),
    (KUNIT_GOOD.replace('b = ["c1", "c2/p"]', 'b = []'),
     'skips of "b" are case names, each once'),
    (KUNIT_GOOD.replace('[x86_64.skips]', 'skips = 1\n[x86_64.more]'),
     '"skips" must be dict'),
    (KUNIT_GOOD + '[deb12.arm64]\nsuites = ["a"]\nskips = { b = ["c"] }\n',
     'deb12.arm64: skips of "b", which is not among its suites'),
]

# Run-time steps, a hot-plugged disk and per-step checks.
FULL = '''description = "t"
arch = "x86_64"
machine = "q35"
steps = ["report", "unbind 0000:00:02.0", "bind 0000:00:02.0 virtio-pci",
         "dma d0", "hotplug h0", "report", "dma"]
[[device]]
id = "rp1"
driver = "pcie-root-port"
props = "bus=pcie.0,chassis=1,addr=0x5"
[[disk]]
id = "d0"
bus = "pcie.0"
props = "addr=0x2"
expect = { group = "none", irq = "MSI-X", dma = "pass", state = "undescribed", master = "on" }
[[hotplug]]
id = "h0"
bus = "rp1"
props = "addr=0x0"
bdf = "0000:01:00.0"
expect = { group = "none", irq = "MSI-X", dma = "pass" }
[[check]]
step = 4
id = "d0"
dma = "pass"
[[check]]
step = 6
id = "d0"
group = "DMA"
[[check]]
step = 6
id = "h0"
irq = "MSI-X"
[[check]]
step = 6
id = "h0"
state = "managed"
[[check]]
step = 2
id = "d0"
err = "EPERM"
'''

FULL_BAD = [
    (FULL.replace('step = 4', 'stp = 4'), 'unknown key "stp"'),
    (FULL.replace('step = 2\nid = "d0"\nerr', 'step = 1\nid = "d0"\nerr'),
     'step 1 is no sysfs'),
    (FULL.replace('err = "EPERM"', 'err = "EPERM"\ngroup = "DMA"'),
     'err is checked on its own'),
    (FULL.replace('step = 4', 'step = 9'), 'no step 9'),
    (FULL.replace('step = 4', 'step = 1'), 'does not check the DMA'),
    (FULL.replace('step = 6\nid = "h0"', 'step = 7\nid = "h0"'),
     'step 7 is not a report'),
    (FULL.replace('id = "d0"\ndma', 'id = "zz"\ndma'), 'unknown id "zz"'),
    (FULL.replace('id = "h0"\nirq = "MSI-X"\n', 'id = "h0"\n'),
     'nothing to check'),
    (FULL.replace('group = "DMA"', 'group = "DMA"\ndma = "pass"'),
     'different steps'),
    (FULL.replace('bdf = "0000:01:00.0"\n', ''), 'missing "bdf"'),
    (FULL.replace('"hotplug h0", ', ''), 'exactly one "hotplug h0"'),
    (FULL.replace('"hotplug h0"', '"hotplug h0", "hotplug h0"'),
     'exactly one "hotplug h0"'),
    (FULL.replace('"hotplug h0"', '"hotplug h0", "hotplug h1"'),
     'names no [[hotplug]]'),
    (FULL.replace('"report", "unbind', '"reprot", "unbind'),
     'unknown step "reprot"'),
    (FULL.replace('"bind 0000:00:02.0 virtio-pci"', '"bind 0000:00:02.0"'),
     'wrong number of arguments for "bind"'),
    (FULL.replace('"dma"]', '"dma", "kselftest"]'), 'do not list it'),
    (FULL.replace('"dma d0"', '"dma e0"'), 'no disk "e0"'),
    (FULL.replace('bus = "rp1"', 'bus = "rp9"'), 'bus "rp9" is no'),
    (FULL.replace('props = "addr=0x0"', 'props = "addr"'),
     'property "addr" is not'),
    (FULL.replace('machine = "q35"', 'machine = "q35"\nkselftest = "fail"'),
     'kselftest "fail" is not'),
    (FULL.replace('machine = "q35"',
                  'machine = "q35"\nkselftest = "fail: a,b"'),
     'kselftest "fail: a,b" is not'),
    (FULL.replace('bdf = "0000:01:00.0"\n',
                  'bdf = "0000:01:00.0"\nbefore = ["h9"]\n'),
     '"before" names "h9"'),
    (FULL + '[[hotplug]]\nid = "h0b"\nbus = "rp1"\nbdf = "0000:01:00.1"\n'
     'expect = { dma = "pass" }\n', 'exactly one "hotplug h0b"'),
    (FULL.replace('"hotplug h0",', '"hotplug h0", "hotplug h0b",').replace(
        'bdf = "0000:01:00.0"\n', 'bdf = "0000:01:00.0"\nbefore = ["h0b"]\n')
     + '[[hotplug]]\nid = "h0b"\nbus = "rp1"\nbdf = "0000:01:00.1"\n'
     'expect = { dma = "pass" }\n', 'needs no "hotplug h0b"'),
]

# A two-function slot: function 1 is plugged first, by function 0's step.
FULL_PAIR = FULL.replace('bdf = "0000:01:00.0"\n',
                         'bdf = "0000:01:00.0"\nbefore = ["h0b"]\n') + \
    '[[hotplug]]\nid = "h0b"\nbus = "rp1"\nprops = "addr=0x0.1"\n' \
    'bdf = "0000:01:00.1"\nexpect = { dma = "pass" }\n'

# What the guest would say for FULL (its last step is the kselftest).
FULL_VERDICT = '''VB start plan=8 disks=2
VB dev step=1 bdf=0000:00:02.0 id=1af4:1042 class=0x010000 driver=virtio-pci group=none type=none iommu=none irq=MSI-X serial=d0 master=on state=undescribed
VB step step=2 name=unbind path=x value=0000:00:02.0 rc=0 err=ok
VB step step=3 name=bind path=y value=0000:00:02.0 rc=0 err=ok
VB dma step=4 serial=d0 bdf=0000:00:02.0 dev=vdb read=pass write=pass irqcpus=1 detail=ok,ok
VB hotplug-ready step=5 id=h0 bdf=0000:01:00.0
VB hotplug step=5 id=h0 bdf=0000:01:00.0 state=ready secs=2
VB dev step=6 bdf=0000:00:02.0 id=1af4:1042 class=0x010000 driver=virtio-pci group=3 type=DMA iommu=dmar0 irq=MSI-X serial=d0
VB dev step=6 bdf=0000:01:00.0 id=1af4:1042 class=0x010000 driver=virtio-pci group=none type=none iommu=none irq=MSI-X serial=h0
VB dma step=7 serial=d0 bdf=0000:00:02.0 dev=vdb read=pass write=pass irqcpus=1 detail=ok,ok
VB dma step=7 serial=h0 bdf=0000:01:00.0 dev=vda read=pass write=pass irqcpus=1 detail=ok,ok
VB ktap TAP version 13
VB ktap 1..2
VB ktap ok 1 global.a
VB ktap #  FAIL  global.b
VB ktap not ok 2 global.b
VB kselftest step=8 rc=1
VB end
'''


def fake_qmp(path, reply, rounds=1):
    """A QEMU monitor for rounds connections on path: it greets, records
    every command and answers with reply(command), after an event."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(rounds)
    seen = []

    def serve():
        for _ in range(rounds):
            conn, _ = srv.accept()
            with conn, conn.makefile('rwb') as f:
                f.write(b'{"QMP": {"version": {}, "capabilities": []}}\n')
                f.flush()
                for line in f:
                    seen.append(json.loads(line))
                    f.write(b'{"event": "DEVICE_DELETED", "data": {}}\n')
                    f.write(json.dumps(reply(seen[-1])).encode() + b'\n')
                    f.flush()
        srv.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return seen, t


def pair_cases(case, tmp):
    """A [[hotplug]] with "before": one step plugs both, the companion
    first; the guest's plan names both disks and BDFs."""
    path = os.path.join(tmp, 'pair.toml')
    with open(path, 'w') as f:
        f.write(FULL_PAIR)
    try:
        sc = scn.load(path)
    except scn.ScenarioError as e:
        case(False, f'pair scenario rejected: {e}')
        return
    case(launch.plan_step(sc, 'hotplug h0') ==
         'hotplug h0 0000:01:00.0 h0b 0000:01:00.1',
         f'pair plan: {launch.plan_step(sc, "hotplug h0")}')
    sock, log = os.path.join(tmp, 'pair.sock'), os.path.join(tmp, 'pair.log')
    seen, t = fake_qmp(sock, lambda cmd: {'return': {}}, rounds=2)
    plugger = supervise.Hotplugger(sc, sock, log)
    plugger('VB hotplug-ready step=5 id=h0 bdf=0000:01:00.0\n')
    t.join(5)
    ids = [c['arguments']['id'] for c in seen if c['execute'] == 'device_add']
    case(ids == ['h0b', 'h0'] and plugger.results == {'h0b': 'added',
                                                      'h0': 'added'},
         f'pair plugged {ids} {plugger.results}')


def hotplug_cases(case, tmp, sc):
    """The watcher plugs a disk once, on a whole hotplug-ready line, with
    the right device_add; a QMP error is reported, not raised."""
    sock, log = os.path.join(tmp, 'qmp.sock'), os.path.join(tmp, 'qmp.log')
    seen, t = fake_qmp(sock, lambda cmd: {'return': {}})
    plugger = supervise.Hotplugger(sc, sock, log)
    line = 'VB hotplug-ready step=5 id=h0 bdf=0000:01:00.0'
    plugger(line)
    case(plugger.results == {}, 'hotplug on a partial line')
    plugger(line + '\r\n')
    plugger(line + '\r\n')
    t.join(5)
    case(plugger.results == {'h0': 'added'}, f'hotplug {plugger.results}')
    case([c['execute'] for c in seen] == ['qmp_capabilities', 'device_add'],
         f'qmp commands {seen}')
    args = seen[-1].get('arguments', {}) if seen else {}
    case(args == {'driver': 'virtio-blk-pci', 'id': 'h0', 'drive': 'drv-h0',
                  'serial': 'h0', 'bus': 'rp1', 'disable-legacy': 'on',
                  'iommu_platform': True, 'addr': '0x0'},
         f'device_add arguments {args}')
    with open(log) as f:
        case('<- {"event"' in f.read(), 'qmp log lacks the event')
    os.unlink(sock)
    seen, t = fake_qmp(sock, lambda cmd: {'return': {}} if cmd['execute'] ==
                       'qmp_capabilities' else
                       {'error': {'class': 'GenericError',
                                  'desc': "Bus 'rp1' not found"}})
    plugger = supervise.Hotplugger(sc, sock, log)
    plugger(line + '\n')
    t.join(5)
    case("Bus 'rp1' not found" in plugger.results.get('h0', ''),
         f'qmp error: {plugger.results}')
    plugger = supervise.Hotplugger(sc, os.path.join(tmp, 'none.sock'), log)
    plugger(line + '\n')
    case(plugger.results.get('h0', '').startswith('device_add failed'),
         f'no monitor: {plugger.results}')


def step_cases(case, tmp):
    """FULL: loader, plan, QEMU arguments, judging per step, kselftest."""
    path = os.path.join(tmp, 'full.toml')
    with open(path, 'w') as f:
        f.write(FULL)
    try:
        sc = scn.load(path)
    except scn.ScenarioError as e:
        case(False, f'full scenario rejected: {e}')
        return
    case(sc['steps'][-1] == 'kselftest' and len(sc['steps']) == 8,
         f'kselftest appended: {sc["steps"]}')
    case(scn.kselftest_expect(sc) == 'pass' and
         scn.kselftest_expect(dict(sc, iommu='x')) == 'pass',
         'kselftest: pass by default, with an IOMMU or without')
    for i, (text, msg) in enumerate(FULL_BAD):
        bad = os.path.join(tmp, f'fullbad{i}.toml')
        with open(bad, 'w') as f:
            f.write(text)
        try:
            scn.load(bad)
            case(False, f'bad full scenario {i} accepted ({msg})')
        except scn.ScenarioError as e:
            case(msg in str(e), f'bad full scenario {i}: "{e}" lacks "{msg}"')
    images, meta = {}, {}
    for did, seed in (('d0', 3), ('h0', 5)):
        images[did] = os.path.join(tmp, f'{did}.img')
        with open(images[did], 'wb') as f:
            f.write(dmadata.stream(seed, 65536))
        meta[did] = (65536, 0, seed)
    plan = launch.make_plan(sc, meta, '/dev/ttyS1').splitlines()
    case(plan[4:] == ['report', 'unbind 0000:00:02.0',
                      'bind 0000:00:02.0 virtio-pci', 'dma d0',
                      'hotplug h0 0000:01:00.0', 'report', 'dma',
                      'kselftest'], f'plan steps {plan}')
    args = scn.qemu_args(sc, 'k', 'i', '', 'o', 'c', images, 'q')
    case(f'file={images["h0"]},format=raw,if=none,id=drv-h0,cache=writeback'
         in args and not any('id=h0' in a for a in args),
         'a hot-plugged disk has its drive at start, not its device')
    verdict = os.path.join(tmp, 'verdict.log')
    with open(verdict, 'w') as f:
        f.write(FULL_VERDICT)
    recs = records.parse_verdict(verdict)
    case([r['line'] for r in recs if r['kind'] == 'ktap'][3] ==
         '#  FAIL  global.b', 'ktap lines kept whole')
    checks = judges.judge(sc, recs, '', 0, meta, images, {'h0': 'added'})
    got = {c['name']: c['got'] for c in checks}
    want = {'d0.group': 'none', 'd0.irq': 'MSI-X', 'd0.dma': 'pass',
            'h0.hotplug': 'ready', 'h0.group': 'none', 'h0.irq': 'MSI-X',
            'h0.dma': 'pass', 'd0.dma@4': 'pass', 'd0.group@6': 'DMA',
            'h0.irq@6': 'MSI-X', 'd0.err@2': 'ok', 'd0.state': 'undescribed',
            'd0.master': 'on', 'h0.state@6': 'not-reported',
            'kselftest': 'fail: global.b'}
    case(all(got.get(k) == v for k, v in want.items()),
         f'judged per step: {got}')
    case(sorted(c['name'] for c in checks if not c['ok']) ==
         ['d0.err@2', 'h0.state@6', 'kselftest'],
         f'only the write step, a state the guest did not report and the '
         f'kselftest fail: {checks}')
    # A hot-plugged function the kernel is expected to leave without a
    # driver: its plug is judged against no-driver, not ready.
    refused = os.path.join(tmp, 'refused.toml')
    with open(refused, 'w') as f:
        f.write(FULL.replace(
            'bdf = "0000:01:00.0"\nexpect = { group = "none", irq = "MSI-X", '
            'dma = "pass" }',
            'bdf = "0000:01:00.0"\nexpect = { group = "none", '
            'driver = "none", dma = "pass" }'))
    rsc = scn.load(refused)
    for state, ok in (('no-driver', True), ('ready', False)):
        rrecs = [dict(r, state=state) if r['kind'] == 'hotplug' else r
                 for r in recs]
        rchk = {c['name']: c for c in judges.judge(
            rsc, rrecs, '', 0, meta, images, {'h0': 'added'})}
        case(rchk['h0.hotplug']['ok'] == ok,
             f'refused function plugged as {state}: {rchk["h0.hotplug"]}')
    case(judges.plug_result(recs, 'h0', None) == 'not-requested' and
         judges.plug_result(recs, 'h0', 'device_add failed: x') ==
         'device_add failed: x', 'hotplug result from the host side')
    for rc, res in (('0', 'pass'), ('4', 'skip'), ('1', 'fail(rc=1)'),
                    ('hang', 'fail(rc=hang)')):
        case(judges.kselftest_result([{'kind': 'kselftest', 'rc': rc}]) == res,
             f'kselftest rc={rc}')
    case(judges.kselftest_result([]) == 'not-run', 'kselftest not run')
    # A boot that never ends shows its first kernel report, else its end.
    hung = ['[  1.0] virtio_blk virtio0: 1/0/0 queues',
            '[245.1] INFO: task swapper/0:1 blocked for more than 122 '
            'seconds.', '[245.2] Call Trace:', '[245.3]  io_schedule']
    case(judges.console_excerpt('\n'.join(hung)) == hung[1:],
         'console excerpt from the report')
    nmi = ['[  9.6] virtio_blk virtio0: [vda] 8192 512-byte logical blocks',
           '[297.5] Uhhuh. NMI received for unknown reason 21 on CPU 0.',
           '[297.5] Kernel panic - not syncing: NMI: Not continuing',
           '[297.5] task:swapper/0       state:D stack:0     pid:1',
           '[297.5]  io_schedule+0xc1/0x140', '[297.5]  ? blkdev_readahead',
           '[297.5]  virtblk_probe+0x1478/0x1ca0']
    got = judges.console_excerpt('\n'.join(nmi))
    case(got == [nmi[0], nmi[2], '...', nmi[3], nmi[4], nmi[6]],
         f'console excerpt: the last line, the panic, the blocked task: {got}')
    # A boot that spins with its timer stopped: no task is blocked, the
    # timestamps stay where the boot stopped, each CPU's stack says where.
    spin = ['[ 2.16] smpboot: x86: Booting SMP configuration:',
            '[ 2.16] .... node  #0, CPUs:      #1',
            '[ 2.19] Uhhuh. NMI received for unknown reason 21 on CPU 0.',
            '[ 2.19] Kernel panic - not syncing: NMI: Not continuing',
            '[ 2.19] CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted',
            '[ 2.19] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)',
            '[ 2.19] Call Trace:', '[ 2.19]  <NMI>',
            '[ 2.19]  dump_stack_lvl+0x5d/0x80',
            '[ 2.19]  ? nmi_handle+0x1/0x2',
            '[ 2.19] RIP: 0010:cpuhp_wait_for_sync_state+0x80/0x100',
            '[ 2.19] RSP: 0000:ffffc90000013e10 EFLAGS: 00000246',
            '[ 2.19]  </NMI>', '[ 2.19]  <TASK>',
            '[ 2.19]  cpuhp_bringup_ap+0x1/0x2',
            '[ 2.19] NMI backtrace for cpu 1',
            '[ 2.19] CPU: 1 UID: 0 PID: 0 Comm: swapper/1 Not tainted',
            '[ 2.19] RIP: 0010:start_secondary+0x1/0x2']
    got = judges.console_excerpt('\n'.join(spin))
    want = spin[:2] + [spin[3], '...', spin[4], spin[6], spin[10],
                       spin[13], spin[14], '...', spin[16], spin[17]]
    case(got == want,
         f'console excerpt of a spinning boot: every CPU\'s stack: {got}')
    # As a real one printed it (7.3's clocksource watchdog against
    # stop_machine()): each CPU's stack once, up to what follows it, a
    # lockdep report inside the panic repeating CPU 0's, the blocked task
    # after the stacks; a warning long before comes first, cut short.
    real = ['[ 0.50] WARNING: something the boot went on after',
            '[ 0.50] at some_function+0x1/0x2'] + [
                f'[ 0.{60 + i}] line {i}' for i in range(10)] + [
            '[ 1.01] smp: Brought up 1 node, 2 CPUs',
            '[ 1.03] Kernel panic - not syncing: NMI: Not continuing',
            '[ 1.03] CPU: 0 UID: 0 PID: 18 Comm: migration/0 Not tainted',
            '[ 1.03] Call Trace:', '[ 1.03]  <NMI>', '[ 1.03]  vpanic+0x3/0x4',
            '[ 1.03] RIP: 0010:watchdog_check_skew+0x12a/0x590',
            '[ 1.03] Code: df 49 c1 ed 03', '[ 1.03]  </NMI>',
            '[ 1.03]  <IRQ>', '[ 1.03]  clocksource_watchdog+0x789/0xd00',
            '[ 1.03] Sending NMI from CPU 0 to CPUs 1:',
            '[ 1.02] NMI backtrace for cpu 1',
            '[ 1.02] CPU: 1 UID: 0 PID: 21 Comm: migration/1 Not tainted',
            '[ 1.02] RIP: 0010:rcu_momentary_eqs+0x69/0x190',
            '[ 1.02] INFO: NMI handler (nmi_cpu_backtrace_handler) took too',
            '[ 1.03] WARNING: inconsistent lock state',
            '[ 1.03] stack backtrace:',
            '[ 1.03] CPU: 0 UID: 0 PID: 18 Comm: migration/0 Not tainted',
            '[ 1.03]  print_usage_bug.part.0+0x22a/0x2b0',
            '[ 1.03] task:swapper/0       state:D stack:0     pid:1',
            '[ 1.03]  wait_for_completion+0x1/0x2']
    got = judges.console_excerpt('\n'.join(real))
    # The warning cut at the tail, the tail, the panic; CPU 0's stack
    # without its NMI frames and Code line, up to "Sending NMI"; CPU 1's
    # up to "INFO:" (the lockdep report repeats CPU 0: left out); the task.
    want = (real[0:3] + ['...'] + real[3:13] + [real[13], '...'] +
            [real[k] for k in (14, 15, 18, 21, 22)] + ['...'] +
            real[25:27] + ['...'] + real[32:34])
    case(got == want, f'console excerpt of a real hang: {got}')
    quiet = [f'line {i}' for i in range(40)]
    case(judges.console_excerpt('\n'.join(quiet)) == quiet[-10:],
         'console excerpt without a report: the last lines')
    hotplug_cases(case, tmp, sc)
    pair_cases(case, tmp)


def load_judges(case):
    """The stress and report-tool judges fail what they must."""
    sc = {'disk': [{'id': 'a', 'expect': {'dma': 'pass'}},
                   {'id': 'b', 'expect': {'dma': 'pass'}},
                   {'id': 'i', 'bdf': '0000:13:00.0',
                    'expect': {'dma': 'pass', 'group': 'DMA-FQ'}}]}

    def stress(recs):
        j = judges.Judge()
        judges.judge_stress(j, sc, recs, 4, ['180', '0000:13:00.0'])
        return {c['name']: c['got'] for c in j.checks if not c['ok']}

    good = [{'kind': 'stress', 'step': '4', 'serial': d, 'ops': '9',
             'mismatches': '0', 'errors': '0', 'detail': 'ok'}
            for d in ('a', 'b')]
    good += [{'kind': 'flip', 'step': '4', 'writes': '20', 'errors': '0',
              'final': 'DMA-FQ', 'detail': 'ok'},
             {'kind': 'step', 'step': '4', 'name': 'stress', 'rc': 'ok'}]
    case(stress(good) == {}, f'stress: clean load passes: {stress(good)}')
    bad = [dict(r) for r in good]
    bad[0]['mismatches'] = '1'
    bad[2]['final'] = 'identity'
    case(set(stress(bad)) == {'a.stress@4', 'flip.0000:13:00.0.auto@4'},
         f'stress: a mismatch and a wrong auto type fail: {stress(bad)}')
    case(set(stress(good[1:])) == {'a.stress@4'},
         'stress: a disk left out fails')
    bad = [dict(r) for r in good]
    bad[2]['writes'] = '3'
    case(set(stress(bad)) == {'flip.0000:13:00.0@4'},
         'stress: too few type switches fail')

    # The admin guide's recipe: its lines against the last report.
    devs = [{'kind': 'dev', 'step': '1', 'bdf': '0000:10:00.0',
             'driver': 'pcieport', 'group': '0', 'type': 'DMA-FQ',
             'state': 'managed'},
            {'kind': 'dev', 'step': '1', 'bdf': '0000:21:00.0',
             'driver': 'none', 'group': 'none', 'type': 'none',
             'state': 'undescribed'}]
    lines = ['0000:10:00.0 pcieport    0     DMA-FQ   none      managed',
             '0000:21:00.0 -           -     -        none      undescribed']

    def listed(out, rc='0'):
        j = judges.Judge()
        recs = devs + [{'kind': 'step', 'step': '4', 'name': 'exec',
                        'rc': rc, 'output': out}]
        judges.judge_recipe(j, recs, 4)
        return [(c['name'], c['got']) for c in j.checks
                if c['got'] != c['want']]

    case(listed(lines) == [], f'recipe: agreeing lines pass: '
         f'{listed(lines)}')
    for i, (out, want) in enumerate([
            (lines[:1], ['0000:21:00.0:missing']),
            (lines + ['0000:00:1f.0 - - - none undescribed'],
             ['0000:00:1f.0:extra']),
            ([lines[0].replace('DMA-FQ', 'DMA   '), lines[1]],
             ['0000:10:00.0:TYPE=DMA!=DMA-FQ']),
            ([lines[0], lines[1].replace('undescribed', 'managed')],
             ['0000:21:00.0:TRANSLATION=managed!=undescribed']),
            ([lines[0].replace('pcieport', '-'), lines[1]],
             ['0000:10:00.0:DRIVER=-!=pcieport']),
            ([lines[0], lines[1].replace(' none ', ' ')],
             ['0000:21:00.0:malformed']),
            ([], ['0000:10:00.0:missing', '0000:21:00.0:missing'])]):
        got = listed(out)
        case(got == [('recipe@4', want)], f'recipe {i}: {got} != {want}')
    case(listed(lines, rc='127') == [('recipe.rc@4', '127')],
         'recipe: a failing shell fails')


KTAP = '''[    1.0] KTAP version 1
[    1.0] 1..3
[    1.1]     KTAP version 1
[    1.1]     # Subtest: good
[    1.1]     ok 1 a
[    1.1] ok 1 good
[    1.2]     # Subtest: bad
[    1.2]     ok 1 a
[    1.2]     not ok 2 b
[    1.2] not ok 2 bad
[    1.3] ok 3 skipped # SKIP no hardware
'''

# A suite whose cases skip in part: a case, and a parameter of another.
KTAP_SKIPS = '''[    1.0] KTAP version 1
[    1.0] 1..1
[    1.1]     KTAP version 1
[    1.1]     # Subtest: part
[    1.1]     ok 1 c0
[    1.1]     ok 2 c1 # SKIP needs more
[    1.1]         KTAP version 1
[    1.1]         # Subtest: c2
[    1.1]         ok 1 p # SKIP not here
[    1.1]         ok 2 q
[    1.1]     ok 3 c2
[    1.1]         KTAP version 1
[    1.1]         # Subtest: c3
[    1.1]         ok 1 p # SKIP not here
[    1.1]     ok 4 c3 # SKIP
[    1.1] ok 1 part
'''


def gate_cases(case):
    """The static gates' base/head comparison: a new report counts, a
    moved one does not, and a tool that failed to run counts even when it
    failed the same way at the base."""
    w = 'a.c:10:5: warning: bad'
    case(gates.compare([w], ['a.c:12:5: warning: bad']) == [],
         'gate: a report that only moved is not new')
    case(gates.compare([], [w]) == ['a.c: warning: bad'],
         'gate: a new report is found')
    case(gates.compare([w], [w, w]) == ['a.c: warning: bad'],
         'gate: a second copy of a report is new')
    fail = gates.tool_failed('coccicheck', ['No OCaml compiler found!'])[0]
    case(gates.compare([fail], [fail]) == [fail, 'at base: ' + fail],
         'gate: a tool failing at both revisions still fails')
    built = gates.tool_failed('build', ['make: Error 2'])
    case(gates.compare(built, []) == ['at base: build failed: make: Error 2'],
         'gate: a tool failing at the base fails')


def cpu_cases(case, tmp):
    """apic_ids: the QEMU topology and a vCPU device per ID after the boot
    CPU's; irq_cpus_max: 1 to N CPUs with the disk's MSI/MSI-X interrupts."""
    text = GOOD.replace('machine =', 'apic_ids = [0, 9]\nsmp = 2\nmachine =')
    sc, err = load_text(tmp, 'apic.toml', text.replace(
        'dma = "pass"', 'dma = "pass", irq_cpus_max = 1'))
    case(sc is not None, f'apic_ids [0, 9] rejected: {err}')
    if sc is None:
        return
    args = scn.qemu_args(sc, 'k', 'i', '', 'o', 'c', {'d0': 'img'}, 'q')
    smp = args[args.index('-smp') + 1]
    cpus = [args[i + 1] for i, a in enumerate(args)
            if a == '-device' and '-cpu,' in args[i + 1]]
    disk = next(a for a in args if a.startswith('virtio-blk-pci,'))
    case(smp == '1,maxcpus=10,sockets=1,dies=1,cores=10,threads=1' and
         cpus == ['max-x86_64-cpu,socket-id=0,core-id=9,thread-id=0'] and
         ',num-queues=2' in disk,
         f'apic_ids [0, 9]: -smp {smp}, {cpus}, {disk}')
    hp = scn.hotplug_device({'id': 'h', 'bus': 'b'}, sc)
    case(hp['num-queues'] == 2 and hp['iommu_platform'] is True and
         hp['disable-legacy'] == 'on', f'apic_ids: hot-plugged disk {hp}')
    sc = {k: v for k, v in sc.items() if k != 'apic_ids'}
    args = scn.qemu_args(sc, 'k', 'i', '', 'o', 'c', {'d0': 'img'}, 'q')
    case(args[args.index('-smp') + 1] == '2' and
         not any('-cpu,' in a or 'num-queues' in a for a in args),
         'no apic_ids: -smp 2 alone')
    _, err = load_text(tmp, 'apic256.toml', text.replace(
        '[0, 9]', '[0, 1, 256]').replace('smp = 2\n', 'qemu = "10"\n'))
    case(err is None, f'apic_ids [0, 1, 256] on QEMU 10 rejected: {err}')
    for n, ok in (('0', False), ('1', True), ('2', False)):
        recs = [{'kind': 'dma', 'serial': 'd0', 'read': 'absent',
                 'irqcpus': n}]
        checks = judges.judge(sc, recs, '', 0, {}, {'d0': 'img'}, {})
        c = next(c for c in checks if c['name'] == 'd0.irq_cpus_max')
        case(c['ok'] == ok and c['want'] == '1..1' and c['got'] == int(n),
             f'irq_cpus_max = 1 with {n} CPUs: {c}')
    checks = judges.judge(sc, [], '', 0, {}, {'d0': 'img'}, {})
    case(not next(c for c in checks if c['name'] == 'd0.irq_cpus_max')['ok'],
         'irq_cpus_max not reported fails')


def load_text(tmp, name, text, loader=scn.load):
    """Load text written to tmp/name; (result, None) or (None, error)."""
    path = os.path.join(tmp, name)
    with open(path, 'w') as f:
        f.write(text)
    try:
        return loader(path), None
    except scn.ScenarioError as e:
        return None, str(e)


def qemu_check_cases(case, both):
    """make check boots a scenario once under each QEMU it lists, each a
    check of its own; --scenario takes the scenario or one variant."""
    import check
    booted = []

    def fake_boot(sc, quiet=False, base=bases.DEFAULT):
        booted.append((sc['name'], scn.qemu_version(sc)))
        return {'checks': [], 'outcome': 'pass', 'seconds': 0,
                'dma_skip': None}
    saved = check.boot.boot
    check.boot.boot = fake_boot
    try:
        names = [n for n, _, _ in check.scenario_checks([both], 'mainline',
                                                        False)]
        case(names == ['scenario.base@qemu10', 'scenario.base@qemu7.2'] and
             booted == [('base@qemu10', '10'), ('base@qemu7.2', '7.2')],
             f'a check per QEMU: {names}, {booted}')
        del booted[:]
        check.scenario_checks([both], 'mainline', False, 'base@qemu7.2')
        one = list(booted)
        del booted[:]
        check.scenario_checks([both], 'mainline', False, 'base')
        case(one == [('base@qemu7.2', '7.2')] and len(booted) == 2,
             f'--scenario of a variant or of the scenario: {one}, {booted}')
    finally:
        check.boot.boot = saved

def base_cases(case, tmp):
    """bases, backport and qemu: which kernels and which QEMU boot a
    scenario, where each base keeps its kernel, runs and records, and a
    missing QEMU 10 failing its scenario instead of make check."""
    sc, err = load_text(tmp, 'base.toml', GOOD)
    case(sc is not None, f'good scenario rejected: {err}')
    if sc is None:
        return
    case(scn.boot_bases(sc) == ['mainline'] and
         scn.boot_bases(sc, every=True) == ['mainline', 'deb12'],
         f'default bases: {scn.boot_bases(sc)}')
    case(scn.boot_bases(dict(sc, backport=True)) == ['mainline', 'deb12'],
         'a backport scenario boots on deb12 in make check')
    only = dict(sc, bases=['deb12'])
    case(scn.boot_bases(only) == [] and
         scn.boot_bases(only, every=True) == ['deb12'],
         f'bases = ["deb12"]: {scn.boot_bases(only, every=True)}')
    case(launch.kernel_image('x86_64', 'deb12') == os.path.join(
        launch.ROOT, 'build', 'obj-deb12-x86_64', 'arch/x86/boot/bzImage') and
        launch.kernel_image('arm64').endswith('build/obj-arm64/arch/arm64/'
                                            'boot/Image'),
        'kernel of each base')
    other = launch.Settings.from_environ({'VB_OBJ_DIR': '/o',
                                          'VB_RUNS': '/r'})
    case(launch.kernel_image('x86_64', 'deb12', other) ==
         '/o/arch/x86/boot/bzImage' and
         launch.run_dir(sc, 'deb12', other) == '/r/deb12/base' and
         launch.base_initramfs('arm64', other).endswith(
             'build/initramfs-arm64.cpio'),
         f'settings as arguments: {other}')
    case(launch.run_dir(sc, 'deb12').endswith('runs/deb12/base') and
         launch.run_dir(sc, 'mainline').endswith('runs/base'),
         'run dirs of the bases apart')
    case(launch.qemu_launch(sc) == (['qemu-system-x86_64'], None),
         f'default QEMU: {launch.qemu_launch(sc)}')
    both = dict(sc, qemu=['10', '7.2'])
    vs = [scn.for_qemu(both, q) for q in scn.qemu_versions(both)]
    case([(v['name'], scn.qemu_version(v)) for v in vs] ==
         [('base@qemu10', '10'), ('base@qemu7.2', '7.2')] and
         both['name'] == 'base' and scn.for_qemu(sc, '7.2')['name'] == 'base'
         and len({launch.run_dir(v, 'mainline') for v in vs}) == 2,
         f'one variant per QEMU listed: {[v["name"] for v in vs]}')
    try:
        scn.for_qemu(sc, '10')
        case(False, 'for_qemu made a variant of a QEMU the scenario omits')
    except scn.ScenarioError:
        pass
    qemu_check_cases(case, both)

    q10 = dict(sc, qemu='10')
    fake = os.path.join(tmp, 'qemu-10')
    binary = os.path.join(fake, 'usr', 'bin', 'qemu-system-x86_64')
    os.makedirs(os.path.dirname(binary))
    # A QEMU that only says how it was started, and stops.
    with open(binary, 'w') as f:
        f.write('#!/bin/sh\necho "$QEMU_MODULE_DIR" "$@" > "$0.args"\n')
    os.chmod(binary, 0o755)
    with open(os.path.join(tmp, 'initramfs'), 'wb') as f:
        f.write(b'')
    saved = bases.QEMU10['dir']
    settings = launch.Settings(runs=os.path.join(tmp, 'runs'),
                               initramfs=os.path.join(tmp, 'initramfs'))
    try:
        bases.QEMU10['dir'] = fake
        argv, env = launch.qemu_launch(q10)
        case(argv == [binary, '-L', os.path.join(fake, 'usr/share/qemu'),
                      '-L', '/usr/share/seabios'] and
             env['QEMU_MODULE_DIR'] == os.path.join(
                 fake, 'usr/lib/x86_64-linux-gnu/qemu'),
             f'QEMU 10 launch: {argv}')
        res = boot.boot(q10, quiet=True, base='deb12', settings=settings)
        with open(binary + '.args') as f:
            args = f.read().split()
        case(args[:5] == [env['QEMU_MODULE_DIR'], '-L',
                          os.path.join(fake, 'usr/share/qemu'), '-L',
                          '/usr/share/seabios'] and
             args[args.index('-kernel') + 1] ==
             launch.kernel_image('x86_64', 'deb12') and
             res['outcome'] == 'fail' and
             res['run_dir'].endswith('runs/deb12/base'),
             f'a deb12 boot under QEMU 10: {args[:5]}, {res["run_dir"]}')
        bases.QEMU10['dir'] = os.path.join(tmp, 'none')
        res = boot.boot(q10, quiet=True, base='deb12', settings=settings)
        case(res['outcome'] == 'fail' and res['base'] == 'deb12' and
             [c['name'] for c in res['checks']] == ['boot.qemu'] and
             'QEMU 10 is missing' in res['checks'][0]['got'] and
             os.path.exists(os.path.join(tmp, 'runs', 'deb12', 'base',
                                         'result.json')),
             f'missing QEMU 10 fails the scenario: {res["checks"]}')
    finally:
        bases.QEMU10['dir'] = saved
    plan, err = load_text(tmp, 'kunit.toml', KUNIT_GOOD, scn.load_kunit)
    case(plan is not None and plan['deb12']['x86_64'] ==
         {'machine': 'q35', 'suites': ['a'], 'skips': {}} and
         plan['mainline']['x86_64']['suites'] == ['a', 'b'] and
         plan['mainline']['x86_64']['skips'] == {'b': ['c1', 'c2/p']} and
         plan['deb12']['arm64'] == {'machine': 'virt', 'suites': ['a'],
                                    'skips': {}},
         f'kunit.toml per base, skips with their suites: {plan or err}')
    for i, (text, msg) in enumerate(KUNIT_BAD):
        _, err = load_text(tmp, f'kunit{i}.toml', text, scn.load_kunit)
        case(err is not None and msg in err,
             f'bad kunit.toml {i}: "{err}" lacks "{msg}"')


def record_cases(case, tmp):
    """Each base's bisect gate reads its own record, beside its series for
    the backport (and left out of the drift gate's comparison there)."""
    w = gates.where('deb12')
    case(w.name('bisect') == 'gate.deb12.bisect' and
         gates.where().name('bisect') == 'bisect',
         'gate names per base')
    case(w.record == os.path.join(launch.ROOT, bases.BASES['deb12'].record)
         and w.verify.endswith('build/verify-deb12') and
         gates.where().verify.endswith('build/verify') and
         w.obj('gate-x86_64').endswith('build/obj-deb12-gate-x86_64') and
         gates.where().obj('bisect').endswith('build/obj-bisect'),
         f'paths per base: {w}')
    pdir = os.path.join(tmp, 'series')
    os.makedirs(pdir)
    with open(os.path.join(pdir, 'series'), 'w') as f:
        f.write('# x\n0001-a.patch\n')
    with open(os.path.join(pdir, '0001-a.patch'), 'w') as f:
        f.write('a patch\n')
    rec = os.path.join(pdir, 'bisect-verified')
    fake = gates.Where('deb12', tmp, tmp, pdir, rec)
    st, det = gates.gate_bisect(fake)
    case(st == 'fail' and det.startswith('no ') and
         det.endswith('run make check-bisect BASE=deb12'),
         f'no record fails: {det}')
    with open(rec, 'w') as f:
        f.write(f'series-sha256 {gates.series_digest(fake)}\n')
    case(gates.gate_bisect(fake)[0] == 'pass', 'matching record passes')
    with open(os.path.join(pdir, '0001-a.patch'), 'a') as f:
        f.write('changed\n')
    st, det = gates.gate_bisect(fake)
    case(st == 'fail' and 'make check-bisect BASE=deb12' in det,
         f'stale record fails: {det}')
    case(gates._not_exported(fake) == ['-x', 'bisect-verified'] and
         gates._not_exported(gates.where()) == [],
         'drift leaves the backport\'s record out')
    build_record_cases(case, fake, rec)


DIGEST_PATCH = """From 0 Mon Sep 17 00:00:00 2001
Subject: [PATCH] x: y

A message.
---
 Documentation/x.rst | 1 +
 drivers/x.c         | 1 +

diff --git a/Documentation/x.rst b/Documentation/x.rst
--- a/Documentation/x.rst
+++ b/Documentation/x.rst
@@ -1 +1,2 @@
 a
+doc
diff --git a/drivers/x.c b/drivers/x.c
--- a/drivers/x.c
+++ b/drivers/x.c
@@ -1 +1,2 @@
 a
+int x;
diff --git a/MAINTAINERS b/MAINTAINERS
--- a/MAINTAINERS
+++ b/MAINTAINERS
@@ -1 +1,2 @@
 a
+F: x
diff --git a/tools/testing/selftests/x/x.c b/tools/testing/selftests/x/x.c
--- a/tools/testing/selftests/x/x.c
+++ b/tools/testing/selftests/x/x.c
@@ -1 +1,2 @@
 a
+int t;
--\x20
2.39.5
"""


def build_record_cases(case, fake, rec):
    """A build-sha256 record holds while only messages, Documentation/,
    MAINTAINERS and kselftests (tools/testing/selftests/, which no kernel
    build reads) change; any other change to a diff asks for a bisect."""
    patch = os.path.join(fake.patches, '0001-a.patch')

    def digest_of(text):
        with open(patch, 'w') as f:
            f.write(text)
        return gates.build_digest(fake)

    one = digest_of(DIGEST_PATCH)
    with open(rec, 'w') as f:
        f.write(f'build-sha256 {one}\n')
    case(gates.gate_bisect(fake)[0] == 'pass', 'build record passes')
    same = [DIGEST_PATCH.replace('A message.', 'Another message.'),
            DIGEST_PATCH.replace('+doc', '+other doc'),
            DIGEST_PATCH.replace('+F: x', '+F: y'),
            DIGEST_PATCH.replace('+int t;', '+int u;'),
            DIGEST_PATCH.replace('2.39.5', '2.40.0'),
            # The base information of a series' first message (topic
            # series carry it in their cover letters instead).
            DIGEST_PATCH.replace('\n-- \n', '\nbase-commit: ' + 'a' * 40 +
                                 '\nprerequisite-patch-id: ' + 'b' * 40 +
                                 '\n-- \n')]
    case(all(digest_of(t) == one for t in same),
         'messages, docs, MAINTAINERS, kselftests and base information '
         'leave the build digest alone')
    st, det = gates.gate_bisect(fake)
    case(st == 'pass' and 'build digest' in det,
         f'a docs-only change keeps the record: {det}')
    case(digest_of(DIGEST_PATCH.replace('+int x;', '+int y;')) != one,
         'a change to code changes the build digest')
    st, det = gates.gate_bisect(fake)
    case(st == 'fail' and 'make check-bisect BASE=deb12' in det,
         f'a code change stales the record: {det}')
    with open(rec, 'w') as f:
        f.write(f'sha256 {one}\n')
    st, det = gates.gate_bisect(fake)
    case(st == 'fail' and 'unknown record' in det,
         f'an unknown record fails: {det}')


def lock_cases(case, tmp):
    """make check's gates and make check-bisect share a verify worktree:
    the second to come fails at once, naming the lock, and touches
    nothing; the lock goes with its holder."""
    fake = gates.Where('deb12', tmp, os.path.join(tmp, 'verify'), tmp,
                       os.path.join(tmp, 'rec'))
    lock = fake.verify + '.lock'
    ran = []
    saved = gates._run_all
    gates._run_all = lambda w, names, st: ran.append(w) or [('g', 'pass', '')]
    try:
        with gates.verify_lock(fake) as first:
            res = gates.run_where(fake, ['series-drift', 'bisect'], False)
            case(first is None and not ran and len(res) == 2 and
                 all(r[1] == 'fail' and 'verify.lock' in r[2] and
                     'make check-bisect' in r[2] for r in res),
                 f'gates while the verify tree is held: {res}')
            case(subprocess.run(['flock', '-n', lock, 'true']).returncode,
                 "bisect.sh's flock -n sees the gates' lock")
        case(subprocess.run(['flock', '-n', lock, 'true']).returncode == 0
             and gates.run_where(fake, ['bisect'], False) ==
             [('g', 'pass', '')] and ran == [fake],
             'the lock goes with its holder; the gates run then')
    finally:
        gates._run_all = saved


def extends_cases(case, tmp):
    """extends: a variant is its parent with its own keys over it, loaded
    through the same checks; it can add expectations, never drop one."""
    parent = (GOOD.replace('machine =', 'cmdline = "a"\nmachine =') +
              '[xfail]\nreason = "r"\nchecks = ["d0.dma"]\n'
              '[log]\nrequire = ["x"]\n'
              '[[disk]]\nid = "d1"\nbus = "pcie.0"\n'
              'expect = { group = "none", dma = "pass" }\n')
    with open(os.path.join(tmp, 'p.toml'), 'w') as f:
        f.write(parent)
    child = ('extends = "p"\ndescription = "c"\ncmdline = "b"\n'
             '[log]\nrequire = ["y"]\n'
             '[[disk]]\nid = "d1"\nexpect = { group = "DMA" }\n'
             '[[disk]]\nid = "d2"\nbus = "pcie.0"\n'
             'expect = { group = "none", dma = "pass" }\n')
    sc, err = load_text(tmp, 'c.toml', child)
    case(sc is not None and sc['cmdline'] == 'b' and
         sc['description'] == 'c' and 'xfail' not in sc and
         sc['log']['require'] == ['x', 'y'] and
         [(d['id'], d['expect']['group']) for d in sc['disk']] ==
         [('d0', 'none'), ('d1', 'DMA'), ('d2', 'none')] and
         sc['disk'][1]['expect']['dma'] == 'pass' and sc['name'] == 'c',
         f'extends merged as {sc and (sc["cmdline"], sc["disk"])}: {err}')
    bad = [
        (child.replace('description = "c"\n', ''), 'missing "description"'),
        (child.replace('"p"', '"nothere"'), 'nothere.toml'),
        (child.replace('"p"', '"../p"'), 'extends names a scenario file'),
        (child.replace('"p"', '"c"'), 'loops back'),
        (child.replace('group = "DMA"', 'group = "DMAX"'), 'group "DMAX"'),
        (child + '[[disk]]\nbus = "pcie.0"\n', 'every entry needs an id'),
    ]
    for i, (text, msg) in enumerate(bad):
        sc, err = load_text(tmp, 'c.toml', text)
        case(sc is None and msg in (err or ''),
             f'bad extends {i}: "{err}" lacks "{msg}"')


def recipe_cases(case, tmp):
    """The recipe is the one literal block of the admin guide (in the
    mainline tree) that loops over /sys/bus/pci/devices; the initramfs
    holds it with busybox and the links of the applets it uses."""
    rst = os.path.join(launch.ROOT, 'build', 'linux', recipe.RST)
    try:
        with open(rst) as f:
            text = f.read()
        script = recipe.extract(text)
    except (OSError, recipe.RecipeError) as e:
        case(False, f'recipe: {e}')
        return
    case(script.startswith('for dev in /sys/bus/pci/devices/*; do\n') and
         script.endswith('done\n') and 'iommu_translation' in script and
         not script.startswith(' '), f'recipe extracted as {script!r}')
    one = text[text.index('    for dev in'):text.index('    done\n') + 9]
    for i, bad in enumerate((text.replace(one, ''), text + '\n::\n\n' + one)):
        try:
            recipe.extract(bad)
            case(False, f'recipe {i}: not one block, yet extracted')
        except recipe.RecipeError as e:
            case('not one' in str(e), f'recipe {i}: {e}')
    busybox = os.path.join(tmp, 'busybox')
    with open(busybox, 'wb') as f:
        f.write(b'bb')
    names = [n for n, _, _ in initramfs.shell_entries(busybox, rst)]
    case(names[:2] == ['bin', 'bin/busybox'] and
         all(f'bin/{a}' in names for a in recipe.APPLETS) and
         'vb/recipe.sh' in names, f'initramfs shell entries: {names}')
    data = cpio.archive([('bin/sh', 'link', b'busybox')])
    mode = int(data[14:22], 16)
    case(mode == 0o120777 and b'bin/sh\0' in data and b'busybox' in data,
         f'cpio: a link entry has mode {mode:o}')


def outgoing_cases(case):
    """make outgoing: the sender comes from the environment or git config
    and a placeholder is refused; an exported patch gets the sender as
    From: and signer, To: and Cc: among its headers, the rest unchanged."""
    ok = {'GIT_AUTHOR_NAME': 'Ada Sender', 'GIT_AUTHOR_EMAIL': 'ada@mail.dev'}
    case(outgoing.sender(ok) == 'Ada Sender <ada@mail.dev>',
         'outgoing: the environment names the sender')
    cfg = {'user.name': 'Cy Config', 'user.email': 'cy@config.org'}.get
    case(outgoing.sender({}, cfg) == 'Cy Config <cy@config.org>',
         'outgoing: git config names the sender')
    for i, (name, email, msg) in enumerate([
            ('', '', 'no sender'),
            ('vbypass developers', 'dev@vbypass.invalid', 'placeholder'),
            ('A', 'a@host.example', 'placeholder'),
            ('A', 'a@example.com', 'placeholder'),
            ('A', 'a@sub.example.org', 'placeholder'),
            ('A', 'a@x.test', 'placeholder'),
            ('A', '1+a@users.noreply.github.com', 'placeholder'),
            ('A', 'a-at-host', 'placeholder'),
            ('A <b@c.dev>', 'a@mail.dev', 'placeholder')]):
        try:
            got = outgoing.sender({'GIT_AUTHOR_NAME': name,
                                   'GIT_AUTHOR_EMAIL': email},
                                  lambda key: '')
        except outgoing.SenderError as e:
            got = str(e)
        case(msg in got, f'outgoing: sender {i} ({name} <{email}>): {got}')
    who = 'Ada Sender <ada@mail.dev>'
    text = ('From 0000000000000000000000000000000000000000 Mon Sep 17 '
            '00:00:00 2001\n'
            f'From: {outgoing.PLACEHOLDER}\n'
            'Date: Tue, 1 Dec 2026 22:00:00 +0000\n'
            'Subject: [PATCH 01/02] iommu: Do a thing\n\n'
            'Body.\n\n'
            f'Signed-off-by: {outgoing.PLACEHOLDER}\n---\n'
            ' a | 1 +\n')
    out = outgoing.rewrite(text, who, ['M One <m1@a.dev>', 'M Two <m2@a.dev>'],
                           ['list@lists.dev'])
    head, _, body = out.partition('\n\n')
    case(f'From: {who}\nTo: M One <m1@a.dev>,\n M Two <m2@a.dev>\n'
         'Cc: list@lists.dev\nDate:' in head and 'Subject: [PATCH 01/02]'
         in head and body.startswith('Body.') and
         f'Signed-off-by: {who}\n' in body and
         outgoing.PLACEHOLDER_DOMAIN not in out,
         f'outgoing: a patch rewritten as {out!r}')
    letter = text.replace('Body.', 'Cover.\n\nvbypass developers (2):\n'
                          '  iommu: Do a thing\n  iommu: Do another')
    out = outgoing.rewrite(letter, who, [], [])
    case('\nAda Sender (2):\n  iommu: Do a thing\n' in out and
         not outgoing.placeholder_left(out) and
         outgoing.placeholder_left(letter.replace(outgoing.PLACEHOLDER,
                                                  who)),
         f'outgoing: a cover letter\'s shortlog names the sender: {out!r}')
    try:
        outgoing.rewrite(text.replace(outgoing.PLACEHOLDER, who), who, [], [])
        case(False, 'outgoing: a patch without the placeholder rewritten')
    except outgoing.SenderError as e:
        case('not an exported patch' in str(e), f'outgoing: {e}')


def topic_cases(case, tmp):
    """Topic series: the mainline series is all of its topics, in order;
    a topics file is checked and each fault named; the export writes a
    folder per topic whose cover letter names the earlier topics' patches
    as prerequisites; make outgoing keeps the folders, each cover letter
    addressed to its own topic's recipients."""
    path = cover.topics_file('mainline')
    version, topics = cover.load_topics(path)
    case(version == 2 and [t['name'] for t in topics] ==
         ['fixes', 'requests', 'pci-list', 'gaps'] and
         cover.topics_file('deb12') is None,
         f'topics: mainline is split, the backport is not: {topics}')
    w = gates.where('mainline')
    listed = [os.path.relpath(p, w.patches) for p in gates.series(w)]
    want, i = [], 0
    for k, t in enumerate(topics, 1):
        want += [f'{k}-{t["name"]}'] * t['patches']
    case(len(listed) == len(want) and
         all(p.startswith(d + '/') for p, d in zip(listed, want)),
         f'topics: patches/series is the topics, in order: {listed[:2]}...')
    good = ('version = 2\n[[topic]]\nname = "fixes"\npatches = 2\n'
            'change-id = "a"\n[[topic]]\nname = "requests"\npatches = 1\n'
            'change-id = "b"\n')
    bad = {
        'no version': (good.replace('version = 2\n', ''), 'version'),
        'unknown key': ('colour = 1\n' + good, 'unknown key'),
        'duplicate': (good.replace('"requests"', '"fixes"'), 'name "fixes"'),
        'bad name': (good.replace('"requests"', '"Requests"'), 'name'),
        'no patches': (good.replace('patches = 1', 'patches = 0'), 'patches'),
        'no cover text': (good.replace('"requests"', '"nosuch"'),
                          'series/cover-nosuch.txt'),
        'extra key': (good.replace('change-id = "b"', 'change-id = "b"\n'
                                   'base = "x"'), 'exactly'),
        'no topic': ('version = 2\n', 'no [[topic]]'),
    }
    tfile = os.path.join(tmp, 'topics.toml')
    for what, (text, msg) in bad.items():
        with open(tfile, 'w') as f:
            f.write(text)
        try:
            cover.load_topics(tfile)
            got = 'accepted'
        except cover.TopicError as e:
            got = str(e)
        case(msg in got and 'topics.toml' in got, f'topics: {what}: {got}')
    # A tree of three commits over base, split 2 + 1.
    tree = os.path.join(tmp, 'tree')
    os.makedirs(tree)
    env = dict(os.environ, GIT_AUTHOR_NAME='vbypass developers',
               GIT_AUTHOR_EMAIL='dev@vbypass.invalid',
               GIT_COMMITTER_NAME='vbypass harness',
               GIT_COMMITTER_EMAIL='harness@vbypass.invalid',
               GIT_AUTHOR_DATE='2026-12-01T00:00:00Z',
               GIT_COMMITTER_DATE='2026-12-01T00:00:00Z')

    def git(*args):
        subprocess.run(['git', '-C', tree, *args], check=True, env=env,
                       capture_output=True)
    git('init', '-q')
    for i, name in enumerate(['base', 'one', 'two', 'three']):
        with open(os.path.join(tree, f'{name}.c'), 'w') as f:
            f.write(f'int {name};\n')
        git('add', '.')
        git('commit', '-q', '-m', f'x: Add {name}\n\nBody {i}.')
        if name == 'base':
            git('tag', 'base')
    with open(tfile, 'w') as f:
        f.write(good)
    out = os.path.join(tmp, 'out')
    os.makedirs(out)
    folders = cover.export_topics(tree, out, tfile)
    files = {d: sorted(os.listdir(os.path.join(out, d))) for d in folders}
    case(folders == ['1-fixes', '2-requests'] and
         [len(v) for v in files.values()] == [3, 2],
         f'topics: a folder per topic, cover letter and patches: {files}')
    with open(os.path.join(out, 'series')) as f:
        series = [ln.strip() for ln in f if not ln.startswith('#')]
    case(series == ['1-fixes/v2-0001-x-Add-one.patch',
                    '1-fixes/v2-0002-x-Add-two.patch',
                    '2-requests/v2-0001-x-Add-three.patch'],
         f'topics: the series file lists them in order: {series}')
    letters = [open(os.path.join(out, d, 'v2-0000-cover-letter.patch')).read()
               for d in folders]
    first = open(os.path.join(out, '1-fixes', 'v2-0001-x-Add-one.patch')).read()
    case('Subject: [PATCH v2 0/2] ' in letters[0] and
         'Subject: [PATCH v2 0/1] ' in letters[1] and
         letters[0].count('prerequisite-patch-id: ') == 0 and
         letters[1].count('prerequisite-patch-id: ') == 2 and
         all('base-commit: ' in t for t in letters) and
         'base-commit' not in first and 'x: Add three' in letters[1] and
         'x: Add one' not in letters[1] and 'change-id: b\n' in letters[1],
         'topics: each cover letter has its topic, its base and the '
         'earlier topics as prerequisites')
    # A reader checks the prerequisites against the posted patches.
    posted = []
    for name in series[:2]:
        with open(os.path.join(out, name), 'rb') as f:
            r = subprocess.run(['git', 'patch-id', '--stable'], input=f.read(),
                               check=True, capture_output=True)
        posted.append(r.stdout.split()[0].decode())
    given = re.findall(r'^prerequisite-patch-id: (\S+)$', letters[1], re.M)
    case(given == posted,
         f'topics: the prerequisite ids are the posted patches\' '
         f'git patch-id --stable: {given} vs {posted}')
    with open(tfile, 'w') as f:
        f.write(good.replace('patches = 1', 'patches = 2'))
    try:
        cover.export_topics(tree, os.path.join(tmp, 'out2'), tfile)
        got = 'accepted'
    except cover.TopicError as e:
        got = str(e)
    case('take 4 patch(es), the series has 3' in got,
         f'topics: a count that is not the series: {got}')
    # make outgoing keeps the folders; each cover letter goes to its own
    # folder's recipients (get_maintainer.pl stood in for by the name).
    fake = gates.Where('mainline', tree, os.path.join(tmp, 'v'), out,
                       os.path.join(tmp, 'rec'))
    real = outgoing.recipients
    outgoing.recipients = lambda t, p: (
        [f'M {os.path.basename(os.path.dirname(p))} <m@a.dev>'], [])
    try:
        sent = os.path.join(tmp, 'sent')
        outgoing.write(fake, sent, 'Ada Sender <ada@mail.dev>')
    finally:
        outgoing.recipients = real
    c2 = open(os.path.join(sent, '2-requests',
                           'v2-0000-cover-letter.patch')).read()
    case(sorted(os.listdir(sent)) == ['1-fixes', '2-requests', 'series'] and
         'To: M 2-requests <m@a.dev>\n' in c2 and '1-fixes' not in c2 and
         'From: Ada Sender <ada@mail.dev>' in c2,
         'outgoing: the topic folders kept, each cover letter to its '
         'topic\'s recipients')


def topology_cases(case, tmp):
    """topology: a scenario's devices and disks come from a file of
    topologies/ (which may build on another), merged by id with the
    scenario's own, placed where place says, less those of without; a
    topology says what is plugged, never what comes of it."""
    tdir = os.path.join(tmp, 'topologies')
    os.makedirs(tdir, exist_ok=True)
    files = {
        'a': '[[device]]\nid = "b1"\ndriver = "pxb-pcie"\n'
             'props = "bus_nr=0x10,bus=pcie.0,addr=0x3"\n'
             '[[disk]]\nid = "d1"\nbus = "pcie.0"\nbdf = "0000:00:06.0"\n'
             '[[disk]]\nid = "d3"\nbus = "pcie.0"\n',
        'b': 'topology = "a"\nwithout = ["d3"]\n'
             '[[device]]\nid = "rp"\ndriver = "pcie-root-port"\n'
             'props = "bus=b1,chassis=1,addr=0x0"\nplace = "first"\n'
             '[[disk]]\nid = "d2"\nbus = "rp"\nplace = "after d1"\n',
        'loop1': 'topology = "loop2"\n',
        'loop2': 'topology = "loop1"\n',
        'outcome': '[[disk]]\nid = "d1"\nbus = "pcie.0"\n'
                   'expect = { group = "none", dma = "pass" }\n',
        'extra': 'cmdline = "x"\n',
    }
    for name, text in files.items():
        with open(os.path.join(tdir, name + '.toml'), 'w') as f:
            f.write(text)
    head = 'description = "t"\narch = "x86_64"\nmachine = "q35"\n'
    own = ('[[disk]]\nid = "d1"\n'
           'expect = { group = "none", dma = "pass" }\n'
           '[[disk]]\nid = "d0"\nbus = "pcie.0"\nplace = "first"\n'
           'expect = { group = "none", dma = "pass" }\n'
           '[[disk]]\nid = "d2"\n'
           'expect = { group = "none", dma = "pass" }\n')
    sc, err = load_text(tmp, 't.toml', head + 'topology = "b"\n' + own)
    case(sc is not None and
         [d['id'] for d in sc['device']] == ['rp', 'b1'] and
         [d['id'] for d in sc['disk']] == ['d0', 'd1', 'd2'] and
         (sc['disk'][1]['bus'], sc['disk'][1]['bdf'],
          sc['disk'][1]['expect']) ==
         ('pcie.0', '0000:00:06.0', {'group': 'none', 'dma': 'pass'}) and
         not any('place' in d for d in sc['device'] + sc['disk']),
         f'topology merged as {sc and (sc["device"], sc["disk"])}: {err}')
    sc, err = load_text(tmp, 't.toml', head + 'topology = "a"\n'
                        'without = ["b1", "d3"]\n' + own.split('[[disk]]\nid = "d0"')[0])
    case(sc is not None and not sc.get('device') and
         [d['id'] for d in sc['disk']] == ['d1'],
         f'without leaves the listed entries out: {sc}: {err}')
    bad = [
        ('topology = "nothere"\n', 'nothere.toml'),
        ('topology = "../a"\n', 'topology names a file'),
        ('topology = "loop1"\n', 'loops back'),
        ('topology = "outcome"\n', 'not what comes of it'),
        ('topology = "extra"\n', 'unknown key "cmdline"'),
        ('topology = "a"\nextends = "p"\n', 'not both'),
        ('without = ["d1"]\n', 'without needs a topology'),
        ('topology = "a"\nwithout = ["d9"]\n', 'without lists ids'),
        ('topology = "a"\nwithout = ["d1", "d1"]\n', 'each once'),
        ('topology = "a"\n[[disk]]\nid = "d1"\nplace = "first"\n',
         'place is for a new entry'),
        ('topology = "a"\n[[disk]]\nid = "d9"\nbus = "pcie.0"\n'
         'place = "after d8"\n', 'place "after d8"'),
        ('topology = "a"\n[[disk]]\nid = "d9"\nbus = "pcie.0"\n'
         'place = "last"\n', 'place "last"'),
        ('[[disk]]\nid = "d9"\nbus = "pcie.0"\nplace = "first"\n'
         'expect = { group = "none", dma = "pass" }\n',
         'unknown key "place"'),
    ]
    for i, (text, msg) in enumerate(bad):
        sc, err = load_text(tmp, 't.toml', head + text)
        case(sc is None and msg in (err or ''),
             f'bad topology {i}: "{err}" lacks "{msg}"')


def entries_written(path):
    """The [[device]], [[disk]] and [[hotplug]] entries a file writes out
    (with a driver or a bus), as comparable text, outcomes aside."""
    with open(path, 'rb') as f:
        raw = tomllib.load(f)
    return {json.dumps([key] + sorted(
        (k, v) for k, v in e.items()
        if k not in ('expect', 'expect_on', 'place')), default=str)
        for key in scn.MERGED_BY_ID for e in raw.get(key, [])
        if 'driver' in e or 'bus' in e}


def repeat_cases(case):
    """No two files of scenarios/ or bench/ (their topologies/ included)
    write out the same list of devices: two entries written the same way in
    two files belong in a topology both name."""
    d = launch.ROOT
    paths = [os.path.join(d, top, sub, f)
             for top in ('scenarios', 'bench') for sub in ('', 'topologies')
             for f in sorted(os.listdir(os.path.join(d, top, sub)))
             if f.endswith('.toml')]
    written = {p: entries_written(p) for p in paths}
    for i, a in enumerate(paths):
        again = [(os.path.relpath(b, d), len(written[a] & written[b]))
                 for b in paths[i + 1:] if len(written[a] & written[b]) > 1]
        case(not again, f'{os.path.relpath(a, d)} writes out entries '
             f'the same way as (file, entries): {again}')
    case(len(paths) > 35 and all(written[p] for p in paths if
                                 '/topologies/' in p),
         f'the files read: {len(paths)}')


def survival_cases(case, tmp):
    """Never leak a guest, never crash the run: QEMU is killed whatever
    ends the wait for it; a harness exception while booting or judging
    one check becomes that check's failure; SIGTERM exits through the
    finally clauses."""
    fake = os.path.join(tmp, 'qemu')
    pidfile = os.path.join(tmp, 'pid')
    # A QEMU that never powers off, and says who it is.
    with open(fake, 'w') as f:
        f.write(f'#!/bin/sh\necho $$ > {pidfile}\nexec sleep 600\n')
    os.chmod(fake, 0o755)

    def watch(_text):
        if os.path.exists(pidfile) and os.path.getsize(pidfile):
            raise RuntimeError('judge failed')
    raised = False
    try:
        supervise.run_qemu([fake], 60, os.path.join(tmp, 'log'),
                      os.path.join(tmp, 'verdict'), watch=watch)
    except RuntimeError:
        raised = True
    pid = int(open(pidfile).read()) if os.path.exists(pidfile) else 0
    alive = True
    if pid:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            alive = False
    case(raised and pid and not alive,
         f'QEMU left running after an exception in its watch (pid {pid})')
    # A guest still running at the timeout gets on_timeout (the NMI), and
    # its QEMU a grace to exit on its own; one that stays is killed.
    fake2 = os.path.join(tmp, 'qemu-nmi')
    pid2 = os.path.join(tmp, 'pid2')
    with open(fake2, 'w') as f:
        f.write(f"#!/bin/sh\ntrap 'exit 0' USR1\necho $$ > {pid2}\n"
                "sleep 600 &\nwait $!\nkill $!\n")
    os.chmod(fake2, 0o755)
    calls = []

    def nmi(stop):
        calls.append(stop)
        if stop:
            os.kill(int(open(pid2).read()), signal.SIGUSR1)
    saved_grace = supervise.DUMP_GRACE
    supervise.DUMP_GRACE = 3
    try:
        for stop in (True, False):
            t0 = time.monotonic()
            got = supervise.run_qemu([fake2], 1, os.path.join(tmp, 'log2'),
                                os.path.join(tmp, 'verdict2'),
                                on_timeout=functools.partial(nmi, stop))
            took = time.monotonic() - t0
            case(got[0] is None and got[2] == 'not-reached' and
                 (took < 3 if stop else took >= 4),
                 f'on_timeout stop={stop}: {got}, {took:.1f}s')
    finally:
        supervise.DUMP_GRACE = saved_grace
    case(calls == [True, False], f'on_timeout called once per boot: {calls}')
    try:
        supervise.on_signal(signal.SIGTERM, None)
        case(False, 'SIGTERM handler returned')
    except SystemExit as e:
        case(e.code == 128 + signal.SIGTERM, f'SIGTERM exit {e.code}')
    import check

    def broken_boot(sc, quiet=False, base=bases.DEFAULT):
        return {}['group']
    saved = check.boot.boot
    check.boot.boot = broken_boot
    try:
        row = check.scenario_check({'name': 'x'}, 'mainline', False, None)
        case(row[:2] == ('scenario.x', 'fail') and
             'harness error: KeyError' in row[2] and 'selftest.py' in row[2],
             f'an exception while judging a boot: {row}')
        rows = check.kunit_checks('mainline', False)
        case(rows and all(st == 'fail' and 'harness error' in det
                          for _, st, det in rows),
             f'an exception in a KUnit boot: {rows}')
    finally:
        check.boot.boot = saved


def record_form_cases(case, tmp):
    """A program's output never passes for a record; a stray line, an
    unknown kind, a missing or malformed field each is a bad record."""
    path = os.path.join(tmp, 'verdict.log')
    with open(path, 'w') as f:
        f.write('VB start plan=2 disks=0\n'
                'VB out VB dev step=1 bdf=x\n'
                'VB out DEVICE  GROUP\n'
                'VB step step=1 name=exec prog=/vb/t rc=0\n'
                'VB ktap ok 1 x\n'
                'VB end\n')
    recs = records.parse_verdict(path)
    case([r['kind'] for r in recs] == ['start', 'step', 'ktap', 'end'] and
         recs[1]['output'] == ['VB dev step=1 bdf=x', 'DEVICE  GROUP'] and
         records.bad_records(recs) == [],
         f'wrapped output: {recs}')
    with open(path, 'w') as f:
        f.write('VB dev step=1 bdf=0000:00:01.0\n'
                'stray text\n'
                'VB reboot now=1\n'
                'VB dma step=x serial=d0 bdf=- dev=- read=pass write=pass '
                'irqcpus=1 detail=-\n')
    bad = records.bad_records(records.parse_verdict(path))
    case(len(bad) == 11 and "not a record: 'stray text'" in bad and
         "unknown kind 'reboot'" in bad and "dma: step='x'" in bad and
         'dev: no irq=' in bad,
         f'bad records named: {bad}')


def guest_step_cases(case):
    """The guest program runs exactly the steps the loader accepts: the
    words run_step() of guest/vbinit.c dispatches on are STEP_ARGS and
    the kselftest step, no more, no fewer."""
    with open(os.path.join(launch.ROOT, 'guest', 'vbinit.c')) as f:
        text = f.read()
    body = text[text.index('static void run_step('):]
    body = body[:body.index('\n}\n')]
    guest = set(re.findall(r'!strcmp\(word, "([^"]+)"\)', body))
    host = set(scn.STEP_ARGS) | {scn.KSELFTEST_STEP}
    case(guest and guest == host,
         f'guest steps {sorted(guest - host)} unknown to the loader, '
         f'loader steps {sorted(host - guest)} unknown to the guest')


FIXTURES = os.path.join(launch.ROOT, 'tests', 'fixtures')


def fixture_scenario(name, qemu):
    return scn.for_qemu(scn.load(os.path.join(launch.ROOT, 'scenarios',
                                              name + '.toml')), qemu)


def fixture_cases(case, tmp):
    """The judges on real run directories (tests/fixtures), and the
    changes of each that must turn a check red: a forbidden console line,
    an allow rule, a byte of a disk that the host reads back."""
    run = os.path.join(FIXTURES, 'intremap-smp4-pass')
    sc = fixture_scenario('q35-vtd-intremap-smp4', '10')
    console = supervise.read_text(os.path.join(run, 'console.log'))
    recs = records.parse_verdict(os.path.join(run, 'verdict.log'))
    meta, images = {}, {}
    with open(os.path.join(run, 'plan')) as f:
        for line in f:
            if line.startswith('disk '):
                _, did, size, h, seed = line.split()
                meta[did] = (int(size), int(h, 16), int(seed, 16))
                images[did] = os.path.join(tmp, did + '.img')
                # What the guest wrote: the stream of the plan's seed.
                with open(images[did], 'wb') as img:
                    img.write(dmadata.stream(int(seed, 16), int(size)))

    def failed(con=console):
        return sorted(c['name'] for c in judges.judge(
            sc, recs, con, 0, meta, images, {}) if not c['ok'])
    case(failed() == [] and len(meta) == 4,
         f'passing fixture: every check passes: {failed()}')
    warned = console + '\n[   7.1] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1\n'
    case(failed(warned) == ['log.forbidden'],
         f'a WARNING line fails the log check: {failed(warned)}')
    allowed = dict(sc, log={'allow': [{'match': r'x\.c:1 f',
                                       'reason': 'test'}]})
    case(not judges.log_findings(warned, allowed)[0] and
         judges.log_findings(warned + '[   7.2] BUG: y\n', allowed)[0] ==
         ['[   7.2] BUG: y'],
         'an allow rule sets aside its line, and only its line')
    with open(images['d20'], 'r+b') as f:
        f.seek(8192)
        byte = f.read(1)
        f.seek(8192)
        f.write(bytes([byte[0] ^ 0x80]))
    case(failed() == ['d20.dma'] and next(
        c['got'] for c in judges.judge(sc, recs, console, 0, meta, images,
                                       {})
        if c['name'] == 'd20.dma') == 'host-verify-mismatch@8192',
         f'a byte the guest did not write fails the host check: {failed()}')

    run = os.path.join(FIXTURES, 'x2apic-cluster-hang')
    sc = fixture_scenario('q35-vtd-x2apic-cluster-id9', '10')
    console = supervise.read_text(os.path.join(run, 'console.log'))
    recs = records.parse_verdict(os.path.join(run, 'verdict.log'))
    unread = {d['id']: os.path.join(tmp, 'never-read') for d in scn.disks(sc)}
    checks = {c['name']: c for c in judges.judge(sc, recs, console, None,
                                                 {}, unread, {})}
    excerpt = judges.console_excerpt(console)
    case(checks['boot.verdict']['got'] == 'qemu-timeout' and
         any('apic.c' in line and 'WARNING' in line
             for line in checks['log.forbidden']['got']) and
         all(checks[f'{d}.dma']['got'] == 'not-reported'
             for d in ('d0', 'd10', 'd20', 'e0')),
         'hung fixture: timeout, the WARNING, no DMA result')
    warning = next(iter(checks['log.forbidden']['got']), '] (none)')
    case(excerpt[0].endswith(warning.split('] ', 1)[1]) and
         any('virtblk_probe' in line for line in excerpt) and
         not any('] ? ' in line for line in excerpt),
         'hung fixture: the excerpt shows the WARNING, then the blocked '
         'task in virtblk_probe')


def aml_pkg_length(data, at):
    """(value, bytes used) of the PkgLength at data[at], decoded as the
    ACPI spec lays it out (not with acpi.py's encoder)."""
    lead = data[at]
    extra = lead >> 6
    if not extra:
        return lead & 0x3f, 1
    value = lead & 0x0f
    for i in range(extra):
        value |= data[at + 1 + i] << (4 + 8 * i)
    return value, 1 + extra


def acpi_cases(case, tmp):
    """The SSDT that marks root ports external-facing: PkgLength at its
    boundaries, the table's header and checksum, the nesting of its
    packages decoded independently; the scenario key that asks for it."""
    for n, want in ((0, '01'), (62, '3f'), (63, '4104'), (4093, '4fff'),
                    (4094, '810001')):
        got = acpi.pkg_length(n).hex()
        case(got == want, f'PkgLength of a {n}-byte body: {got}, want {want}')
        v, used = aml_pkg_length(acpi.pkg_length(n), 0)
        case(v == n + used, f'PkgLength of {n} decodes to {v} ({used} bytes)')
    t = acpi.external_facing_ssdt([(5, 0)])
    case(t[:4] == b'SSDT' and int.from_bytes(t[4:8], 'little') == len(t) and
         sum(t) & 0xff == 0, f'SSDT header: {t[:10].hex()}, sum {sum(t)}')
    aml = t[36:]
    # Scope (\_SB.PCI0): its package ends where the table does.
    v, used = aml_pkg_length(aml, 1)
    case(aml[0] == 0x10 and 1 + v == len(aml) and
         aml[1 + used:1 + used + 10] == b'\\\x2e_SB_PCI0',
         f'Scope spans the table and names \\_SB.PCI0: {aml[:16].hex()}')
    dev = 1 + used + 10
    v, used = aml_pkg_length(aml, dev + 2)
    case(aml[dev:dev + 2] == b'\x5b\x82' and dev + 2 + v == len(aml) and
         aml[dev + 2 + used:dev + 6 + used] == b'X050',
         f'Device X050 spans the scope: {aml[dev:dev + 12].hex()}')
    body = aml[dev + 6 + used:]
    case(body.startswith(b'\x08_ADR\x0c' + bytes([0, 0, 5, 0])),
         f'_ADR 0x00050000: {body[:10].hex()}')
    case(bytes.fromhex('14d8ffdaba6e8c4d8a91bc9bbf4aa301') in body and
         b'\x0dExternalFacingPort\x00\x01' in body,
         'the _DSD holds the device-properties UUID and ExternalFacingPort 1')
    case(b'\x5b\x82\x0bD000\x08_ADR\x00' in body,
         'a child device at _ADR 0 (a bridge\'s companion has children)')
    port = ('[[device]]\nid = "rp"\ndriver = "pcie-root-port"\n'
            'props = "bus=pcie.0,chassis=1,addr=0x5"\nexternal_facing = true\n')
    sc, err = load_text(tmp, 'xf.toml', GOOD + port)
    case(sc is not None and scn.external_facing_ports(sc) == [(5, 0)],
         f'external_facing on pcie.0 addr 0x5: {err}')
    if sc is not None:
        args = scn.qemu_args(sc, 'k', 'i', '', 'o', 'c', {'d0': 'img'}, 'q',
                             acpi_tables=['t.aml'])
        case(args[args.index('-acpitable') + 1] == 'file=t.aml',
             'qemu_args: -acpitable file= for each table')
    for text, want in (
            (port.replace('addr=0x5', 'addr=0x1f.7'), None),
            (port.replace('bus=pcie.0,', 'bus=pci.10,'), 'bus=pcie.0'),
            (port.replace(',addr=0x5', ''), 'bus=pcie.0'),
            (port.replace('addr=0x5', 'addr=0x20'), 'bus=pcie.0'),
            (port.replace('pcie-root-port', 'pxb-pcie'), 'pcie-root-port'),
            (port.replace('true', '"yes"'), '"external_facing" must be bool')):
        _, err = load_text(tmp, 'xf.toml', GOOD + text)
        case(err is None if want is None else want in (err or ''),
             f'external_facing: {want or "accepted"}: got {err}')
    _, err = load_text(tmp, 'xf.toml', GOOD.replace('x86_64', 'arm64') + port)
    case('x86_64' in (err or ''), f'external_facing on arm64: {err}')


class SelfTest(unittest.TestCase):
    """Each group of cases is a test; each failing case a subtest that
    names what went wrong."""

    def case(self, ok, what):
        global COUNT
        COUNT += 1
        with self.subTest(what):
            self.assertTrue(ok, what)

    def group(self, cases, tmp=False):
        """Run a group of cases, in a scratch folder of its own if tmp."""
        if not tmp:
            cases(self.case)
            return
        with tempfile.TemporaryDirectory() as path:
            cases(self.case, path)

    def test_data(self):
        """Guest and host agree on the DMA data; FNV-1a vectors."""
        case = self.case
        # Published FNV-1a 64 vectors.
        for text, want in ((b'', 0xcbf29ce484222325), (b'a', 0xaf63dc4c8601ec8c),
                           (b'foobar', 0x85944171f73967e8)):
            case(dmadata.fnv1a(text) == want, f'fnv1a({text!r})')
        guest = os.path.join(launch.BUILD, 'vbinit-x86_64')
        for seed, size in ((1, 65536), (0x9e3779b97f4a7c15, 4 << 20)):
            try:
                r = subprocess.run([guest, '--data', f'{seed:x}', str(size)],
                                   capture_output=True, text=True)
            except OSError as e:
                case(False, f'cannot run the guest program: {e}')
                continue
            want = dmadata.fnv1a(dmadata.stream(seed, size))
            case(r.returncode == 0 and r.stdout.strip() != '' and
                 int(r.stdout, 16) == want,
                 f'guest/host data disagree for seed {seed:x}')

    def test_log_rules(self):
        """Log rules on counts."""
        case = self.case
        # Log rules on counts: once means exactly one line, forbid none.
        rules = {'log': {'once': [r'bad entry "x"'], 'forbid': [r'changed']}}
        case(judges.log_counts('a\nbad entry "x"\nb\n', rules) == [],
             'log rules met')
        case(len(judges.log_counts('bad entry "x"\nbad entry "x"\n', rules)) == 1,
             'log rule once finds a repeated line')
        case(len(judges.log_counts('group changed\n', rules)) == 2,
             'log rules find a missing and a forbidden line')

    def test_images(self):
        """Disk images: the host's read-back and the master seed."""
        case = self.case
        # The host's check of what the guest wrote finds a flipped byte.
        with tempfile.TemporaryDirectory() as tmp:
            img = os.path.join(tmp, 'disk.img')
            with open(img, 'wb') as f:
                f.write(dmadata.stream(7, 1 << 20))
            case(dmadata.verify_image(img, 7, 1 << 20) is None, 'verify good')
            with open(img, 'r+b') as f:
                f.seek(300000)
                byte = f.read(1)
                f.seek(300000)
                f.write(bytes([byte[0] ^ 1]))
            case(dmadata.verify_image(img, 7, 1 << 20) == 300000 // 4096 * 4096,
                 'verify finds a flipped byte')
            case(dmadata.verify_image(img, 8, 1 << 20) == 0,
                 'verify finds a wrong seed')
            # One master seed gives the same disks again (a replay), another
            # seed other ones.
            import random
            made = []
            for master in (5, 5, 6):
                rng = random.Random(master)
                got = []
                for i in range(2):
                    p = os.path.join(tmp, f'm{master}-{i}.img')
                    got.append(dmadata.make_image(p, 65536, rng) +
                               (open(p, 'rb').read(),))
                made.append(got)
            case(made[0] == made[1] and made[0] != made[2] and
                 made[0][0] != made[0][1] and all(g[1] for m in made for g in m),
                 'master seed replays disks')

    def test_loader(self):
        """The scenario loader: a good file, expect_on, bad files."""
        case = self.case
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'good.toml')
            with open(path, 'w') as f:
                f.write(GOOD)
            try:
                scn.load(path)
                case(True, '')
            except scn.ScenarioError as e:
                case(False, f'good scenario rejected: {e}')
            # expect_on replaces its base's values, and only its base's.
            path = os.path.join(tmp, 'on.toml')
            with open(path, 'w') as f:
                f.write(GOOD.replace('dma = "pass" }', 'dma = "pass" }\n'
                                     'expect_on = { deb12 = { group = '
                                     '"identity" } }'))
            try:
                sc = scn.load(path)
                got = {b: scn.for_base(sc, b)['disk'][0]['expect']['group']
                       for b in ('mainline', 'deb12')}
                case(got == {'mainline': 'none', 'deb12': 'identity'},
                     f'expect_on applied as {got}')
                case('expect_on' in sc['disk'][0], 'for_base changed its input')
            except scn.ScenarioError as e:
                case(False, f'expect_on scenario rejected: {e}')
            # cmdline_on replaces its base's command line, and only its.
            path = os.path.join(tmp, 'cmdline-on.toml')
            with open(path, 'w') as f:
                f.write(GOOD.replace('machine = "q35"\n',
                                     'machine = "q35"\ncmdline = "a=1"\n'
                                     'cmdline_on = { deb12 = "b=2" }\n'))
            try:
                sc = scn.load(path)
                got = {b: scn.cmdline(scn.for_base(sc, b))
                       for b in ('mainline', 'deb12')}
                case(got == {'mainline': 'a=1', 'deb12': 'b=2'},
                     f'cmdline_on applied as {got}')
                case('cmdline_on' in sc and sc['cmdline'] == 'a=1',
                     'for_base changed its input')
            except scn.ScenarioError as e:
                case(False, f'cmdline_on scenario rejected: {e}')
            # A loaded scenario is frozen; a variant goes through the checks.
            sc = scn.load(os.path.join(tmp, 'good.toml'))
            for change in (lambda: sc.update(name='x'),
                           lambda: sc['disk'][0]['expect'].pop('dma'),
                           lambda: sc['steps'].append('report'),
                           lambda: sc.__setitem__('timeout', 1)):
                try:
                    change()
                    case(False, 'a loaded scenario took a change')
                except TypeError:
                    pass
            v = scn.variant(sc, name='good-v', steps=['report', 'trace'])
            case(v['name'] == 'good-v' and v['steps'] == ['report', 'trace'] and
                 sc['name'] == 'good' and isinstance(v, scn.Frozen),
                 f'variant: {v["name"]}, {v["steps"]}')
            for bad in ({'steps': ['reboot']}, {'name': 'a b'},
                        {'timeout': 5}):
                try:
                    scn.variant(sc, **bad)
                    case(False, f'variant accepted {bad}')
                except scn.ScenarioError:
                    pass
            for i, (text, msg) in enumerate(BAD):
                path = os.path.join(tmp, f'bad{i}.toml')
                with open(path, 'w') as f:
                    f.write(text)
                try:
                    scn.load(path)
                    case(False, f'bad scenario {i} accepted ({msg})')
                except scn.ScenarioError as e:
                    case(msg in str(e), f'bad scenario {i}: "{e}" lacks "{msg}"')

    def test_sparse(self):
        """The sparse gate's MODULE_INFO() exception."""
        case = self.case
        # sparse's report on v7.3's MODULE_INFO() is set aside on such a line
        # only, never another report or another line.
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, 'm.c')
            with open(src, 'w') as f:
                f.write('int x = 1;\nMODULE_LICENSE("GPL");\n')
            err = ': error: bad constant expression'
            case(gates._sparse_tool_limit(f'{src}:2:1{err}'),
                 'sparse MODULE_INFO() report not set aside')
            case(not gates._sparse_tool_limit(f'{src}:1:1{err}'),
                 'sparse report on a code line set aside')
            case(not gates._sparse_tool_limit(f'{src}:2:1: warning: x'),
                 'another sparse report on a MODULE_ line set aside')

    def test_commit_ids(self):
        """checkpatch's "Unknown commit id" is set aside only for a commit
        of series/upstream-commits.txt cited with its listed subject."""
        case = self.case
        known = gates.upstream_commits()
        cid, subject = next(iter(known.items()))
        line = (f"p.patch:9: WARNING:GIT_COMMIT_ID: Unknown commit id "
                f"'{cid[:12]}', maybe rebased or not pulled?")
        text = f'Fixes: {cid[:12]} ("{subject}")\n'
        case(gates.cited_known(line, text, known),
             'commit ids: a listed commit cited with its subject rejected')
        cut = subject.index(' ')
        wrapped = (f'commit {cid[:12]} ("{subject[:cut]}\n'
                   f'{subject[cut + 1:]}")')
        case(gates.cited_known(line, wrapped, known),
             'commit ids: a citation wrapped over two lines rejected')
        case(not gates.cited_known(line, text.replace(subject, 'x'), known),
             'commit ids: a listed id with another subject set aside')
        other = line.replace(cid[:12], '0123456789ab')
        case(not gates.cited_known(other, text.replace(cid[:12],
                                   '0123456789ab'), known),
             'commit ids: an unlisted id set aside')
        case(not gates.cited_known(line.replace('Unknown commit id',
                                                'Please use'), text, known),
             'commit ids: another GIT_COMMIT_ID warning set aside')

    def test_step(self):
        self.group(step_cases, tmp=True)

    def test_base(self):
        self.group(base_cases, tmp=True)

    def test_cpu(self):
        self.group(cpu_cases, tmp=True)

    def test_acpi(self):
        self.group(acpi_cases, tmp=True)

    def test_record(self):
        self.group(record_cases, tmp=True)
        self.group(lock_cases, tmp=True)

    def test_survival(self):
        self.group(survival_cases, tmp=True)

    def test_extends(self):
        self.group(extends_cases, tmp=True)

    def test_topology(self):
        self.group(topology_cases, tmp=True)

    def test_no_repeated_devices(self):
        self.group(repeat_cases)

    def test_judges(self):
        self.group(load_judges)

    def test_record_form(self):
        self.group(record_form_cases, tmp=True)

    def test_guest_step(self):
        self.group(guest_step_cases)

    def test_fixture(self):
        self.group(fixture_cases, tmp=True)

    def test_gate(self):
        self.group(gate_cases)

    def test_outgoing(self):
        self.group(outgoing_cases)
        self.group(topic_cases, tmp=True)

    def test_recipe(self):
        self.group(recipe_cases, tmp=True)

    def test_cpio(self):
        """cpio archives are reproducible, and read back as written."""
        case = self.case
        entries = [('vb', 'dir', b''), ('vb/plan', 'file', b'x')]
        one = cpio.archive(entries)
        case(one == cpio.archive(entries) and
             one != cpio.archive(entries, cpio.PLAN_INO),
             'cpio: the same input gives the same bytes, call after call')
        every = [('dev', 'dir', b''), ('dev/console', 'chr', (5, 1)),
                 ('init', 'exec', b'\x7fELF' * 3), ('bin/sh', 'link', b'b'),
                 ('vb/odd', 'file', b'12345')]
        two = cpio.archive(every) + cpio.archive(entries, cpio.PLAN_INO)
        case(cpio.entries(two) == every + entries,
             'cpio: concatenated archives read back entry by entry')
        try:
            cpio.entries(b'070702' + two[6:])
            case(False, 'cpio: a header that is not newc is read')
        except ValueError:
            pass

    def test_rootdisk(self):
        """The boot disk: partition, file system, plan and data."""
        case = self.case
        import random
        rng = random.Random(3)
        sig = rootdisk.signature(rng)
        case(re.fullmatch(r'root=PARTUUID=[0-9a-f]{8}-01 rootfstype=ext2 rw '
                          r'rootwait=60 init=/init', rootdisk.cmdline(sig))
             is not None, 'boot disk: the kernel finds it by PARTUUID')
        archive = cpio.archive([('vb', 'dir', b''), ('init', 'exec', b'i'),
                                ('bin', 'dir', b''),
                                ('bin/sh', 'link', b'busybox')])
        data = dmadata.stream(9, 1 << 16)
        with tempfile.TemporaryDirectory() as tmp:
            img = os.path.join(tmp, 'root.img')
            rootdisk.make(img, archive, b'out x\n', data, sig)
            with open(img, 'rb') as f:
                mbr = f.read(512)
            start, count = struct.unpack_from('<II', mbr, 454)
            case(mbr[510:] == b'\x55\xaa' and
                 struct.unpack_from('<I', mbr, 440)[0] == sig and
                 mbr[450] == 0x83 and start * 512 == rootdisk.OFFSET and
                 (start + count) * 512 == os.path.getsize(img),
                 'boot disk: one Linux partition, from 1 MiB to the end')
            out = os.path.join(tmp, 'data')
            case(rootdisk.extract(img, out) and
                 initramfs.read(out) == data,
                 'boot disk: its data file reads back from the image')
            plan = os.path.join(tmp, 'plan')
            r = subprocess.run([rootdisk.DEBUGFS, '-R',
                                f'dump /vb/plan {plan}',
                                f'{img}?offset={rootdisk.OFFSET}'],
                               capture_output=True)
            case(r.returncode == 0 and initramfs.read(plan) == b'out x\n',
                 'boot disk: the plan is /vb/plan')
            r = subprocess.run([rootdisk.DEBUGFS, '-R', 'ls -p /',
                                f'{img}?offset={rootdisk.OFFSET}'],
                               capture_output=True, text=True)
            top = {ln.split('/')[5] for ln in r.stdout.splitlines()
                   if ln.count('/') >= 6 and ln.split('/')[2].startswith('04')}
            case(set(rootdisk.MOUNT_POINTS) <= top,
                 'boot disk: the mount points an initramfs moves onto')
            with open(img, 'r+b') as f:
                f.truncate(rootdisk.OFFSET)
            case(not rootdisk.extract(img, out) and not os.path.exists(out),
                 'boot disk: a broken file system gives no data file')

    def test_packaged_kernel(self):
        """make deb's kernel: the one *-vbypass release of the scratch
        root's /boot, with its initramfs; Debian's own beside it is not
        taken, and none or two or a missing initramfs is an error."""
        case = self.case
        with tempfile.TemporaryDirectory() as tmp:
            bootdir = os.path.join(tmp, 'boot')
            os.makedirs(bootdir)

            def put(*names):
                for n in names:
                    with open(os.path.join(bootdir, n), 'w') as f:
                        f.write('x')

            def got():
                try:
                    return launch.packaged_kernel(tmp)
                except launch.PackageMissing as e:
                    return str(e)

            put('vmlinuz-6.12.117+deb12-amd64',
                'initrd.img-6.12.117+deb12-amd64')
            case('0 kernel(s)' in got(), 'package: Debian\'s own is not it')
            put('vmlinuz-6.12.117-vbypass')
            case('made no initramfs' in got(),
                 'package: a kernel without its initramfs is refused')
            put('initrd.img-6.12.117-vbypass')
            case(got() == (os.path.join(bootdir, 'vmlinuz-6.12.117-vbypass'),
                           os.path.join(bootdir, 'initrd.img-6.12.117-vbypass')),
                 'package: its kernel and initramfs')
            put('vmlinuz-6.12.118-vbypass')
            case('2 kernel(s)' in got(), 'package: two releases are refused')
            # A package scenario without the package fails its boot with
            # a check that says so, before any QEMU starts.
            sc = scn.load(os.path.join(launch.ROOT, 'scenarios',
                                       'pkg-q35-vtd-bypass.toml'))
            sc = scn.for_qemu(sc, '7.2')
            res = boot.boot(sc, quiet=True, base='deb12', settings=
                            launch.Settings(package_root=os.path.join(
                                tmp, 'none'), runs=tmp))
            bad = [c for c in res['checks'] if not c['ok']]
            case([c['name'] for c in bad] == ['boot.package'] and
                 'make deb' in bad[0]['got'],
                 'package: a missing package fails the boot, naming make deb')
        # make check boots no package scenario, make check-deb only those.
        import check
        plain, _ = check.load_scenarios()
        pkg, _ = check.load_scenarios(package=True)
        case(pkg and all(p.get('package') for p in pkg) and
             not any(p.get('package') for p in plain),
             'package: make check and make check-deb split the scenarios')

    def test_ktap(self):
        """The KTAP reader."""
        case = self.case
        plan, suites = ktap.parse(KTAP)
        case(plan == 3, 'ktap plan')
        case(suites.get('good', {}).get('ok') is True, 'ktap good')
        case(suites.get('bad', {}).get('ok') is False and
             suites['bad']['failed'] == ['b'], 'ktap bad')
        case(suites.get('skipped', {}).get('skip') is True, 'ktap skip')
        case(ktap.parse('no ktap here') == (None, {}), 'ktap none')
        cut = ktap.parse(KTAP.split('[    1.2] not ok 2 bad')[0])[1]
        case(cut.get('bad', {}).get('ok') is False and 'skipped' not in cut,
             f'ktap cut off in a suite (a crash): {cut}')
        part = ktap.parse(KTAP_SKIPS)[1].get('part', {})
        case(part.get('ok') is True and not part.get('skip') and
             part.get('skipped') == ['c1', 'c2/p', 'c3'],
             f'ktap: the cases and parameters that skipped (a case whose '
             f'every parameter skipped, by its name): {part}')
        import check
        verdicts = [
            (['c1', 'c2/p', 'c3'], 'pass',
             'ok; skipped as listed: c1, c2/p, c3'),
            (['c1', 'c3'], 'fail',
             'skipped, not listed in tests/kunit.toml: c2/p'),
            ([], 'fail',
             'skipped, not listed in tests/kunit.toml: c1, c2/p, c3'),
            (['c1', 'c2/p', 'c3', 'c0'], 'fail',
             'listed as skipping in tests/kunit.toml, ran: c0'),
            (['c1', 'c2', 'c3'], 'fail',
             'skipped, not listed in tests/kunit.toml: c2/p'),
        ]
        for may, st, det in verdicts:
            got = check.judge_suite(part, may)
            case(got == (st, det), f'kunit skips {may}: {got}')
        case(check.judge_suite(suites['good'], []) == ('pass', 'ok') and
             check.judge_suite(suites['bad'], [])[0] == 'fail',
             'kunit: a whole suite passes or fails as before')
        whole = {'ok': True, 'skip': True, 'failed': [],
                 'skipped': ['c1', 'c2']}
        case(check.judge_suite(suites['skipped'], []) ==
             ('fail', 'suite skipped itself') and
             check.judge_suite(whole, ['c1']) ==
             ('fail', 'suite skipped itself; not listed in '
              'tests/kunit.toml: c2') and
             check.judge_suite(whole, ['c1', 'c2']) ==
             ('skip', 'every case skipped, as listed: c1, c2'),
             'kunit: a suite that skipped as a whole fails unless every '
             'case of it is listed')

    def test_bench_reading(self):
        """make bench's reading of a run names every target the table
        marks missed, the summed B / C and a cell without figures
        included, with the range the tool's rounding leaves for a missed
        A / B, and says all were met only when they were."""
        case = self.case

        def cell(a, b, c):
            return {'A': {'total': a}, 'B': {'total': b}, 'C': {'total': c}}

        def res(cells):
            dm = {}
            for (t, g), v in cells.items():
                for d, fig in v.items():
                    dm[f'{d}/{t}/{g}'] = fig
            proof = {'ok': True}
            return {'rounds': 1, 'arches': {'x86_64': {
                'dma_map': dm, 'domains': proof}}}

        good = {(t, g): cell(10.0, 1.0, 1.0) for t in bench.THREADS
                for g in bench.GRANULES}
        text = bench.reading(res(good))
        case('Every target was met' in text, 'reading: all met')
        case(all(ok for _, _, ok in bench.targets(res(good))),
             'reading: the good run meets every target')
        bad = dict(good)
        bad[(1, 1)] = cell(2.0, 0.5, 0.5)          # A / B 4x
        bad[(2, 1)] = cell(10.0, 1.2, 1.0)         # B 1.2 <= 1.1 + 0.2
        bad[(2, 16)] = cell(None, 1.0, 1.0)        # no figures
        for g in bench.GRANULES:                   # summed B / C 1.15x
            if (1, g) != (1, 1):
                bad[(1, g)] = cell(10.0, 1.15, 1.0)
        judged = bench.targets(res(bad))
        missed = [n for n, _, ok in judged if not ok]
        text = bench.reading(res(bad))
        case(missed and all(n in text for n in missed),
             f'reading: every missed target named ({missed})')
        case('B / C, sum over all sizes' in ' '.join(missed),
             'reading: the summed target is among the misses')
        case('t=2 g=16' in text, 'reading: a cell without figures named')
        lo, hi = 2.0 / (0.5 + bench.READ_LOW), (2.0 + bench.READ_LOW) / 0.5
        case(f'between {lo:.1f}x and {hi:.1f}x' in text,
             'reading: the rounding range of a missed A / B')
        case('Every target was met' not in text,
             'reading: no "all met" with a miss')

    def test_outcome(self):
        """The xfail logic."""
        case = self.case
        chk = [{'name': 'a', 'ok': False}, {'name': 'b', 'ok': True}]
        xf = {'xfail': {'reason': 'r', 'checks': ['a']}}
        case(judges.outcome(xf, chk) == 'xfail', 'xfail exact')
        case(judges.outcome({'xfail': {'reason': 'r', 'checks': ['a', 'b']}},
                          chk) == 'xpass', 'xpass')
        case(judges.outcome({'xfail': {'reason': 'r', 'checks': ['b']}}, chk)
             == 'fail', 'xfail extra failure')
        case(judges.outcome({}, chk) == 'fail', 'plain fail')


def run():
    """For make check: the description of each failure (empty when all
    pass); COUNT is the number of cases run."""
    global COUNT
    COUNT = 0
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(SelfTest).run(result)
    fails = []
    for test, trace in result.failures + result.errors:
        what = getattr(test, '_message', None)
        last = trace.strip().splitlines()[-1]
        fails.append(f'{test.id().rsplit(".", 1)[-1]}: '
                     f'{what if isinstance(what, str) else last}')
    return fails


if __name__ == '__main__':
    unittest.main()
