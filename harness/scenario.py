"""Scenario files: one QEMU topology and what must come out of it.

A scenario is a TOML file in scenarios/ (the format is described in the
README).  Loading is strict: an unknown key, a missing required key or a
value of the wrong kind is an error naming the file and the key, so a typo
cannot silently drop an expectation.
"""
import copy
import os
import re
import tomllib

import bases
from arches import ARCHES


class Frozen(dict):
    """A loaded scenario, or a table in one: reads like a dict, refuses
    every change.  Only the loader makes one (freeze()); a variant is a
    new one made through the loader's checks (variant(), for_base(),
    for_qemu()), never an edited copy."""

    def _refuse(self, *args, **kwargs):
        raise TypeError('a loaded scenario is frozen: make a variant '
                        'with scenario.variant()')

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __deepcopy__(self, memo):
        return thaw(self)


class FrozenList(list):
    """A list in a loaded scenario: reads like a list (and + gives a new,
    plain one), refuses every change in place."""

    def _refuse(self, *args, **kwargs):
        raise TypeError('a loaded scenario is frozen: make a variant '
                        'with scenario.variant()')

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = _refuse
    reverse = sort = _refuse

    def __deepcopy__(self, memo):
        return thaw(self)


def freeze(obj):
    """obj with every dict and list in it made Frozen, recursively."""
    if isinstance(obj, dict):
        return Frozen((k, freeze(v)) for k, v in obj.items())
    if isinstance(obj, list):
        return FrozenList(freeze(v) for v in obj)
    return obj


def thaw(obj):
    """A plain, mutable deep copy of a (frozen) scenario."""
    if isinstance(obj, dict):
        return {k: thaw(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [thaw(v) for v in obj]
    return obj

GROUP_TYPES = ('none', 'DMA', 'DMA-FQ', 'identity', 'blocked', 'unmanaged')
IRQ_MODES = ('MSI-X', 'MSI', 'INTx', 'none')
DMA_RESULTS = ('pass', 'absent', 'skip')
# What the kselftest ends with: pass, skip (every test skipped), or
# "fail: " and the names of the failing tests, in their order, ", "
# between them (a negative test names what it spoiled).
KSELFTEST_RESULT = re.compile(r'pass|skip|fail: [\w.]+(, [\w.]+)*')
# The QEMU a scenario boots under: Debian 12's own, or the 10 that
# harness/fetch-debs.sh unpacks beside it (bases.QEMU10).  qemu names one,
# or lists several: each is then a boot and a check of its own (for_qemu).
QEMUS = ('7.2', '10')
DEFAULT_QEMU = '7.2'
# apic_ids: the APIC ID of each vCPU, the boot CPU's (0) first.  QEMU
# builds an x86 APIC ID as socket | die | module | core | thread id, each
# field ceil(log2(count per parent)) bits wide, the thread id lowest.
# qemu_args gives QEMU one socket of highest ID + 1 cores of one thread, so
# the core id is the APIC ID; one socket, as smp = N has (several sockets
# would make Linux mark the TSC unstable on QEMU's AMD-vendor TCG CPU).  q35
# takes 4096 CPUs on QEMU 10; an ID above 254 needs x2APIC with interrupt
# remapping (eim=on), which only QEMU 10 accepts under TCG.
APIC_ID_MAX = 4095
XAPIC_ID_MAX = 254

TOP_KEYS = {
    'description': str, 'arch': str, 'machine': str, 'iommu': str,
    'cmdline': str, 'cmdline_on': dict, 'smp': int, 'memory': str, 'firmware': str,
    'timeout': int, 'io_timeout': int, 'dma_skip': str, 'steps': list,
    'hold_disks': str, 'kselftest': str,
    'qemu': (str, list), 'bases': list, 'backport': bool, 'apic_ids': list,
    'package': bool,
    'device': list, 'disk': list, 'hotplug': list, 'check': list,
    'log': dict, 'xfail': dict, 'pending': str,
}
REQUIRED = ('description', 'arch', 'machine')
# cmdline_on: { BASE = "..." } replaces cmdline on one base, whose kernel
# spells a parameter another way (as the deb12 backport once carried v1's
# pci=iommu_passthrough=); for_base() applies it.
# expect_on: { BASE = { KEY = VALUE, ... } } replaces some of expect's
# values on one base, where that base's kernel does something else for a
# reason of its own (a comment says which); for_base() applies it.
# package = true: the scenario boots the backport as make deb packages it
# (a Debian config, drivers as modules), not a test kernel: the kernel and
# the initramfs that initramfs-tools made for it when dpkg installed it in
# make deb's scratch Debian 12 root (launch.packaged_kernel()).  That
# initramfs loads the modules, as on a Debian guest, and mounts the root
# file system from the scenario's boot disk (root = true, required), from
# which vbinit runs.  Only make check-deb boots these (check.py --package),
# on the base Debian's package is of (bases.DEB_KERNEL), and it boots
# nothing else.
# external_facing: firmware marks the root port external-facing (an SSDT
# with its _DSD, acpi.py), so Linux treats every device below it as
# untrusted.  x86_64 only, a pcie-root-port on pcie.0 with an addr.
DEVICE_KEYS = {'id': str, 'driver': str, 'props': str, 'bdf': str,
               'expect': dict, 'expect_on': dict, 'external_facing': bool}
DISK_KEYS = {'id': str, 'bus': str, 'props': str, 'size': str,
             'bdf': str, 'expect': dict, 'expect_on': dict}
# root: the boot disk (rootdisk.py): the guest boots without an initramfs,
# its root file system on this disk, whose DMA check runs on a file of
# that file system (size is the file's).  One [[disk]] at most, x86_64
# only (its test kernel builds ext2 in, configs/x86_64.config).
BOOT_DISK_KEYS = {**DISK_KEYS, 'root': bool}
# A [[hotplug]] may plug other functions of its slot first ("before"):
# QEMU shows a multi-function slot to the guest when function 0 comes.
HOTPLUG_KEYS = {**DISK_KEYS, 'before': list}
EXPECT_KEYS = {'group': str, 'irq': str, 'driver': str, 'dma': str,
               'master': str, 'state': str}
# master: the PCI function's bus mastering (its command register); state:
# its iommu_translation file ('-' where the kernel has none).
MASTER_VALUES = ('on', 'off')
STATES = ('managed', 'undescribed', 'denied', 'none', '-')
# A [[disk]] may also say on how many CPUs its interrupts must have arrived
# once its DMA check (which issues I/O from every CPU in turn) is done:
# exactly irq_cpus, or from 1 to irq_cpus_max (the guest counts only MSI and
# MSI-X vectors, so at least one means they came by MSI or MSI-X).
DISK_EXPECT_KEYS = {**EXPECT_KEYS, 'irq_cpus': int, 'irq_cpus_max': int}
# A [[check]]: expectations of one report or dma step (see README).
# err: how a sysfs, bind, unbind or master step ended ('ok' or an errno
# name).
CHECK_KEYS = {'step': int, 'id': str, 'err': str, **EXPECT_KEYS}
WRITE_STEPS = ('sysfs', 'bind', 'unbind', 'master')
REPORT_KEYS = ('group', 'irq', 'driver', 'master', 'state')
LOG_KEYS = {'allow': list, 'require': list, 'once': list, 'forbid': list}
XFAIL_KEYS = {'reason': str, 'checks': list}

# Lines that fail a boot unless an allow rule with a reason covers them.
# Lockdep, KASAN, DEBUG_ATOMIC_SLEEP and dma-debug report through WARN() or
# BUG: lines; the rest catch what comes without one.
FORBIDDEN = (
    r'WARNING:', r'BUG:', r'Call Trace:', r'Kernel panic', r'Oops',
    r'INFO: possible', r'lockdep is turned off',
    r'general protection fault', r'UBSAN:',
)

# Default disk properties: a modern virtio-pci device that honours the
# vIOMMU (iommu_platform), so its DMA really goes through translation.
DISK_PROPS = 'disable-legacy=on,iommu_platform=on'


def disk_props(sc):
    """DISK_PROPS, and with apic_ids one queue per vCPU: QEMU sizes
    virtio-blk by -smp's initial CPUs, only the boot CPU there (the others
    come by -device), where smp = N would give N queues."""
    ids = sc.get('apic_ids')
    return DISK_PROPS + (f',num-queues={len(ids)}' if ids else '')
DEFAULT_STEPS = ['report', 'dma']
# With hold_disks, pci-stub holds every virtio-blk function at boot and the
# guest binds them itself, each under its watchdog (see vbinit.c).
HOLD_CMDLINE = 'pci-stub.ids=1af4:1042'
HOLD_STEPS = ['bind-held', 'report', 'dma']
# The last step of every scenario loaded from a file: the kselftest binary.
KSELFTEST_STEP = 'kselftest'
# Guest steps a scenario may name: (fewest, most) arguments, None = any.
STEP_ARGS = {
    'report': (0, 0), 'dma': (0, 1), 'bind-held': (0, 0), 'sysfs': (2, None),
    'unbind': (1, 1), 'bind': (2, 2), 'hotplug': (1, 1), 'exec': (1, None),
    'sleep': (1, 1), 'stress': (1, 2), 'blkbench': (2, 2), 'trace': (0, 0),
    'master': (2, 2),
}


def steps(sc):
    """The guest's steps, in order; step n of the guest is steps(sc)[n-1]."""
    if 'steps' in sc:
        return sc['steps']
    return HOLD_STEPS if 'hold_disks' in sc else DEFAULT_STEPS


def disks(sc):
    """Every virtio-blk disk: present at boot, then hot-plugged ones."""
    return sc.get('disk', []) + sc.get('hotplug', [])


def kselftest_expect(sc):
    """pass unless the scenario says otherwise: the kselftest checks
    invariants that hold on any machine, and skips only the tests of what
    the guest lacks (a guest without an IOMMU still has per-device files
    to check)."""
    return sc.get('kselftest', 'pass')


def qemu_versions(sc):
    """Every QEMU the scenario boots under, in the order it lists them."""
    q = sc.get('qemu', DEFAULT_QEMU)
    return [q] if isinstance(q, str) else list(q)


def qemu_version(sc):
    """The QEMU of one boot: the first listed (a for_qemu variant names
    only its own)."""
    return qemu_versions(sc)[0]


def for_qemu(sc, q):
    """The scenario as booted under QEMU q: a copy that names only q and,
    when the scenario lists several, is named NAME@qemuQ (its check and its
    run directory apart from the other QEMUs')."""
    listed = qemu_versions(sc)
    if q not in listed:
        raise ScenarioError(f'{sc["path"]}: not booted under qemu "{q}" '
                            f'(its qemu: {", ".join(listed)})')
    out = thaw(sc)
    out['qemu'] = q
    if len(listed) > 1:
        out['name'] = f'{sc["name"]}@qemu{q}'
    return freeze(out)


def boot_bases(sc, every=False):
    """The kernels make check boots a scenario with: mainline, and the
    backport too when the scenario is marked backport (make check boots
    only a subset on deb12, to keep its time); with every (make
    check-all), each base the scenario lists (default: all of them)."""
    listed = sc.get('bases', list(bases.BASES))
    if every:
        return listed
    return [b for b in listed
            if b == bases.DEFAULT or sc.get('backport', False)]


def cmdline(sc):
    extra = HOLD_CMDLINE if 'hold_disks' in sc else ''
    return ' '.join(filter(None, [sc.get('cmdline', ''), extra]))


class ScenarioError(Exception):
    pass


def _check_keys(where, table, spec, required=()):
    if not isinstance(table, dict):
        raise ScenarioError(f'{where}: expected a table')
    for key, val in table.items():
        if key not in spec:
            raise ScenarioError(f'{where}: unknown key "{key}"')
        kinds = spec[key] if isinstance(spec[key], tuple) else (spec[key],)
        # TOML's true is a Python int too: never where a number is due.
        if not isinstance(val, kinds) or (isinstance(val, bool) and
                                          bool not in kinds):
            raise ScenarioError(f'{where}: "{key}" must be '
                                f'{" or ".join(k.__name__ for k in kinds)}')
    for key in required:
        if key not in table:
            raise ScenarioError(f'{where}: missing "{key}"')


def _check_expect_on(where, item, keys):
    """expect_on: per base, values that replace expect's: each base known,
    each key one expect already has, each value a valid one and a change."""
    for base, over in item.get('expect_on', {}).items():
        at = f'{where}.expect_on.{base}'
        if base not in bases.BASES:
            raise ScenarioError(f'{at}: no base "{base}"')
        if not isinstance(over, dict) or not over:
            raise ScenarioError(f'{at}: must be a non-empty table')
        for key, val in over.items():
            if key not in item.get('expect', {}):
                raise ScenarioError(f'{at}: "{key}" replaces no expect value')
            if val == item['expect'][key]:
                raise ScenarioError(f'{at}: "{key}" is the same as expect\'s')
        _check_expect(at, {**item['expect'], **over}, keys)


def _check_cmdline_on(path, sc):
    """cmdline_on: per base, a command line that replaces cmdline's: each
    base known, each a string that differs from cmdline."""
    for base, line in sc.get('cmdline_on', {}).items():
        at = f'{path}: cmdline_on.{base}'
        if base not in bases.BASES:
            raise ScenarioError(f'{at}: no base "{base}"')
        if not isinstance(line, str):
            raise ScenarioError(f'{at}: must be a string')
        if line == sc.get('cmdline', ''):
            raise ScenarioError(f'{at}: the same as cmdline')


def for_base(sc, base):
    """The scenario as judged on a base: a copy whose cmdline_on and
    devices' and disks' expect_on values for that base replace cmdline and
    their expect values."""
    out = thaw(sc)
    lines = out.pop('cmdline_on', {})
    if base in lines:
        out['cmdline'] = lines[base]
    for kind in ('device', 'disk', 'hotplug'):
        for item in out.get(kind, []):
            if 'expect_on' in item:
                item['expect'].update(item.pop('expect_on').get(base, {}))
    return freeze(out)


def _check_expect(where, exp, keys=None):
    _check_keys(where + '.expect', exp, keys or EXPECT_KEYS)
    for key in ('irq_cpus', 'irq_cpus_max'):
        if exp.get(key, 1) < 1:
            raise ScenarioError(f'{where}: {key} must be at least 1')
    if 'irq_cpus' in exp and 'irq_cpus_max' in exp:
        raise ScenarioError(f'{where}: irq_cpus or irq_cpus_max, not both')
    for key, allowed in (('group', GROUP_TYPES), ('irq', IRQ_MODES),
                         ('master', MASTER_VALUES), ('state', STATES),
                         ('dma', DMA_RESULTS)):
        if key in exp and exp[key] not in allowed:
            raise ScenarioError(f'{where}: {key} "{exp[key]}" not one of '
                                f'{", ".join(allowed)}')


def _check_regex(where, pattern):
    """A [log] pattern: a string that compiles, checked before any boot."""
    if not isinstance(pattern, str):
        raise ScenarioError(f'{where}: a pattern is a string')
    try:
        re.compile(pattern)
    except re.error as e:
        raise ScenarioError(f'{where}: bad pattern "{pattern}": {e}') from e


def parse_props(where, text):
    """QEMU "key=value,..." properties as a dict (for QMP device_add)."""
    props = {}
    for item in filter(None, text.split(',')):
        key, eq, val = item.partition('=')
        if not eq or not key:
            raise ScenarioError(f'{where}: property "{item}" is not '
                                f'key=value')
        props[key] = val
    return props


def plugging_step_id(sc, hid):
    """The [[hotplug]] whose step plugs hid: itself, or the one that
    lists it in "before"."""
    return next((hp['id'] for hp in sc.get('hotplug', [])
                 if hid in hp.get('before', [])), hid)


# QMP takes a property as JSON of its own type where the command line takes
# text: QEMU 7.2 still converted "on" for a bool, QEMU 10 refuses it
# ("Invalid parameter type for 'iommu_platform', expected: boolean").  The
# properties of a hot-plugged virtio-blk-pci that are no string (on/off
# auto ones such as disable-legacy are strings) and how to convert them.
QMP_PROP_TYPES = {
    'iommu_platform': lambda v: {'on': True, 'off': False}[v],
    'multifunction': lambda v: {'on': True, 'off': False}[v],
    'num-queues': int,
}


def qmp_props(where, props):
    """Properties parsed from text, each of the JSON type QMP wants."""
    out = dict(props)
    for key, conv in QMP_PROP_TYPES.items():
        if key in out:
            try:
                out[key] = conv(out[key])
            except (KeyError, ValueError) as e:
                raise ScenarioError(f'{where}: bad value "{out[key]}" for '
                                    f'{key}') from e
    return out


def hotplug_device(hp, sc=None):
    """The device_add arguments of a [[hotplug]] disk: what a [[disk]]
    gets on the command line, but plugged at run time."""
    props = qmp_props(hp['id'], parse_props(hp['id'], ','.join(filter(
        None, [disk_props(sc or {}), hp.get('props')]))))
    return {'driver': 'virtio-blk-pci', 'id': hp['id'],
            'drive': f'drv-{hp["id"]}', 'serial': hp['id'],
            'bus': hp['bus'], **props}


def parse_size(text):
    m = re.fullmatch(r'(\d+)([KMG]?)', text)
    if not m:
        raise ScenarioError(f'bad size "{text}"')
    return int(m.group(1)) << {'': 0, 'K': 10, 'M': 20, 'G': 30}[m.group(2)]


# topology = "NAME": the devices and disks of scenarios/topologies/NAME.toml
# (what is plugged where: ids, drivers, properties, BDFs; never an
# outcome), with this file's entries merged over them by id as below, so
# that scenarios sharing a machine's topology state only their
# expectations.  without = ["ID", ...] leaves some of the topology's
# entries out of this scenario.  A topology may build on another the same
# way (topology, without, and entries merged by id).
#
# extends = "NAME": the scenario is NAME's (a file beside it) with this
# file's keys over it, so that a variant states only what differs:
# - a top-level key replaces NAME's (steps, cmdline, iommu, qemu, ...);
# - a [[device]], [[disk]] or [[hotplug]] whose id NAME has is merged into
#   NAME's: its keys replace those of NAME's entry, its expect keys those
#   of NAME's expect; an id NAME lacks is added after NAME's, or where its
#   place key says: "first", or "after ID" (QEMU creates devices in the
#   order of its command line, and a vIOMMU translates only the devices
#   created after it);
# - [[check]] entries and [log] rules are added to NAME's: a variant can
#   add expectations, never drop one;
# - description is the file's own (required), and xfail and pending,
#   which say how this very file's boot fails today, are never inherited.
# A scenario names a topology or extends another, not both.
NOT_INHERITED = ('description', 'xfail', 'pending')
MERGED_BY_ID = ('device', 'disk', 'hotplug')


def _read_toml(path):
    try:
        with open(path, 'rb') as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ScenarioError(f'{path}: {e}') from e


def _resolve(path, seen=()):
    """The TOML of a scenario file with its topology, or what it extends,
    merged under it."""
    raw = _read_toml(path)
    parent = raw.pop('extends', None)
    topology = raw.pop('topology', None)
    without = raw.pop('without', None)
    if parent is not None and topology is not None:
        raise ScenarioError(f'{path}: a scenario names a topology or '
                            f'extends another, not both')
    if without is not None and topology is None:
        raise ScenarioError(f'{path}: without needs a topology')
    if topology is not None:
        return _merge(path, _topology(path, topology, without), raw)
    if parent is None:
        return raw
    if not isinstance(parent, str) or not re.fullmatch(r'[\w.-]+', parent):
        raise ScenarioError(f'{path}: extends names a scenario file of '
                            f'this folder, without .toml')
    ppath = os.path.join(os.path.dirname(path), parent + '.toml')
    if os.path.realpath(ppath) in seen + (os.path.realpath(path),):
        raise ScenarioError(f'{path}: extends "{parent}" loops back')
    base = _resolve(ppath, seen + (os.path.realpath(path),))
    return _merge(path, base, raw)


TOPOLOGY_KEYS = ('device', 'disk', 'hotplug')
OUTCOME_KEYS = ('expect', 'expect_on')


def _topology(path, name, without, seen=()):
    """The entries of topology file name (and of the topology it builds
    on), less the ids of without."""
    if not isinstance(name, str) or not re.fullmatch(r'[\w.-]+', name):
        raise ScenarioError(f'{path}: topology names a file of '
                            f'scenarios/topologies, without .toml')
    tdir = os.path.join(os.path.dirname(path), 'topologies') \
        if not seen else os.path.dirname(path)
    tpath = os.path.join(tdir, name + '.toml')
    if os.path.realpath(tpath) in seen:
        raise ScenarioError(f'{path}: topology "{name}" loops back')
    topo = _read_toml(tpath)
    under, under_without = topo.pop('topology', None), topo.pop('without',
                                                               None)
    for key, entries in topo.items():
        if key not in TOPOLOGY_KEYS or not isinstance(entries, list):
            raise ScenarioError(f'{tpath}: unknown key "{key}" (a topology '
                                f'has only [[device]], [[disk]] and [[hotplug]], and '
                                f'the topology and without it builds on)')
        for e in entries:
            if not isinstance(e, dict) or 'id' not in e:
                raise ScenarioError(f'{tpath}: {key}: every entry needs '
                                    f'an id')
            if any(k in e for k in OUTCOME_KEYS):
                raise ScenarioError(f'{tpath}: {key} "{e["id"]}": a '
                                    f'topology says what is plugged, not '
                                    f'what comes of it (no expect)')
    if under is not None:
        base = _topology(tpath, under, under_without,
                         seen + (os.path.realpath(tpath),))
        topo = {key: _merge_by_id(f'{tpath}: {key}', base.get(key, []),
                                  topo.get(key, []))
                for key in TOPOLOGY_KEYS if key in base or key in topo}
    elif under_without is not None:
        raise ScenarioError(f'{tpath}: without needs a topology')
    if without is None:
        return topo
    ids = [e['id'] for entries in topo.values() for e in entries]
    if not isinstance(without, list) or \
            any(i not in ids for i in without) or \
            len(set(without)) != len(without):
        raise ScenarioError(f'{path}: without lists ids of topology '
                            f'"{name}" ({", ".join(ids)}), each once')
    return {key: [e for e in entries if e['id'] not in without]
            for key, entries in topo.items()}


def _merge(path, base, over):
    out = {k: v for k, v in base.items() if k not in NOT_INHERITED}
    for key, val in over.items():
        if key in MERGED_BY_ID and isinstance(val, list):
            out[key] = _merge_by_id(f'{path}: {key}', out.get(key, []), val)
        elif key == 'check' and isinstance(val, list):
            out[key] = out.get(key, []) + val
        elif key == 'log' and isinstance(val, dict):
            log = dict(out.get('log', {}))
            for rule, items in val.items():
                if not isinstance(items, list):
                    raise ScenarioError(f'{path}: log.{rule} must be list')
                log[rule] = log.get(rule, []) + items
            out['log'] = log
        else:
            out[key] = val
    return out


def _merge_by_id(where, base, over):
    out = [copy.deepcopy(e) for e in base]
    for e in over:
        if not isinstance(e, dict) or 'id' not in e:
            raise ScenarioError(f'{where}: every entry needs an id')
        ids = [x.get('id') for x in out]
        if e['id'] not in ids:
            e = dict(e)
            out.insert(_place(where, e.pop('place', None), ids), e)
            continue
        if 'place' in e:
            raise ScenarioError(f'{where}: "{e["id"]}" is already '
                                f'plugged: place is for a new entry')
        mine = out[ids.index(e['id'])]
        for k, v in e.items():
            if k == 'expect' and isinstance(v, dict) and \
                    isinstance(mine.get('expect'), dict):
                mine['expect'] = {**mine['expect'], **v}
            else:
                mine[k] = v
    return out


def _place(where, place, ids):
    """The index a new entry goes to: "first", "after ID" or the end."""
    if place is None:
        return len(ids)
    if place == 'first':
        return 0
    words = place.split() if isinstance(place, str) else []
    if len(words) != 2 or words[0] != 'after' or words[1] not in ids:
        raise ScenarioError(f'{where}: place "{place}" is not "first" or '
                            f'"after ID" with the ID of an earlier entry')
    return ids.index(words[1]) + 1


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    sc = _resolve(path)
    _check_keys(path, sc, TOP_KEYS, REQUIRED)
    _check_cmdline_on(path, sc)
    if sc['arch'] not in ARCHES:
        raise ScenarioError(f'{path}: unknown arch "{sc["arch"]}"')
    arch = ARCHES[sc['arch']]
    fw = sc.get('firmware', 'none')
    if fw != 'none' and fw not in arch.firmware:
        raise ScenarioError(f'{path}: no firmware "{fw}" for {arch.name}')
    ids = set()
    for i, dev in enumerate(sc.get('device', [])):
        where = f'{path}: device[{i}]'
        _check_keys(where, dev, DEVICE_KEYS, ('id', 'driver'))
        if 'expect' in dev:
            if 'bdf' not in dev:
                raise ScenarioError(f'{where}: expect needs "bdf"')
            _check_expect(where, dev['expect'])
            if 'dma' in dev['expect']:
                raise ScenarioError(f'{where}: dma is for disks only')
        _check_expect_on(where, dev, EXPECT_KEYS)
        if dev.get('external_facing'):
            _external_facing_port(where, sc, dev)
        ids.add(dev['id'])
    for i, disk in enumerate(sc.get('disk', [])):
        _check_disk(f'{path}: disk[{i}]', sc, disk, ids,
                    ('id', 'bus', 'expect'), BOOT_DISK_KEYS)
    _check_root_disk(path, sc)
    for i, disk in enumerate(sc.get('hotplug', [])):
        where = f'{path}: hotplug[{i}]'
        _check_disk(where, sc, disk, ids, ('id', 'bus', 'bdf', 'expect'),
                    HOTPLUG_KEYS)
        qmp_props(where, parse_props(where, disk.get('props', '')))
        if disk['bus'] not in {d['id'] for d in sc.get('device', [])}:
            raise ScenarioError(f'{where}: bus "{disk["bus"]}" is no '
                                f'[[device]] (a free pcie-root-port)')
    log = sc.get('log', {})
    _check_keys(f'{path}: log', log, LOG_KEYS)
    for i, rule in enumerate(log.get('allow', [])):
        _check_keys(f'{path}: log.allow[{i}]', rule,
                    {'match': str, 'reason': str}, ('match', 'reason'))
        _check_regex(f'{path}: log.allow[{i}].match', rule['match'])
    for kind in ('require', 'once', 'forbid'):
        for i, pattern in enumerate(log.get(kind, [])):
            _check_regex(f'{path}: log.{kind}[{i}]', pattern)
    if 'xfail' in sc:
        _check_keys(f'{path}: xfail', sc['xfail'], XFAIL_KEYS,
                    ('reason', 'checks'))
        if not sc['xfail']['checks']:
            raise ScenarioError(f'{path}: xfail lists no checks')
        if not all(isinstance(c, str) for c in sc['xfail']['checks']):
            raise ScenarioError(f'{path}: xfail.checks are check names '
                                f'(strings)')
    _check_steps(path, sc)
    _check_checks(path, sc)
    _check_boot_keys(path, sc)
    _check_apic_ids(path, sc)
    if not isinstance(sc.get('kselftest', 'pass'), str) or not \
            KSELFTEST_RESULT.fullmatch(sc.get('kselftest', 'pass')):
        raise ScenarioError(f'{path}: kselftest "{sc["kselftest"]}" is not '
                            f'pass, skip, or "fail: " and the failing tests')
    sc['steps'] = steps(sc) + [KSELFTEST_STEP]
    sc['name'] = name
    sc['path'] = path
    return freeze(sc)


# What variant() may change, and the check each new value must pass.
VARIANT_KEYS = {'name': str, 'steps': list}


def variant(sc, **changes):
    """A new frozen scenario: sc with changes (name, steps), checked as
    the loader checks them.  steps replace the guest's steps whole, the
    kselftest included: a variant runs what it lists (make bench's boots
    time their own steps, without the kselftest)."""
    out = thaw(sc)
    for key, val in changes.items():
        if key not in VARIANT_KEYS or not isinstance(val, VARIANT_KEYS[key]):
            raise ScenarioError(f'{sc["path"]}: a variant cannot set '
                                f'{key}={val!r}')
        out[key] = thaw(val)
    if 'steps' in changes:
        _check_steps(sc['path'], out)
    if not out['name'] or not re.fullmatch(r'[\w@.-]+', out['name']):
        raise ScenarioError(f'{sc["path"]}: bad variant name '
                            f'"{out["name"]}"')
    return freeze(out)


def kunit_scenario(arch, machine, timeout, path):
    """The boot of a KUnit kernel (tests/kunit.toml): no disk, no step, no
    device; judged on its console's KTAP and log lines only."""
    if arch not in ARCHES:
        raise ScenarioError(f'{path}: unknown arch "{arch}"')
    return freeze({'name': f'kunit-{arch}', 'description': f'KUnit on {arch}',
                   'arch': arch, 'machine': machine, 'steps': [],
                   'timeout': timeout, 'path': path})


def _check_boot_keys(path, sc):
    """qemu, bases and backport: what boots the scenario, and on which
    kernels.  A backport scenario must list the backport's base."""
    qs = qemu_versions(sc)
    if not qs or len(set(map(str, qs))) != len(qs):
        raise ScenarioError(f'{path}: qemu must list each QEMU once, at '
                            f'least one')
    for q in qs:
        if q not in QEMUS:
            raise ScenarioError(f'{path}: qemu "{q}" not one of '
                                f'{", ".join(QEMUS)}')
        if q == '10' and sc['arch'] not in bases.QEMU10['arches']:
            raise ScenarioError(f'{path}: qemu "10" is there for '
                                f'{", ".join(bases.QEMU10["arches"])} only')
    listed = sc.get('bases', list(bases.BASES))
    for b in listed:
        if not isinstance(b, str) or b not in bases.BASES:
            raise ScenarioError(f'{path}: bases: unknown base "{b}" (one of '
                                f'{", ".join(bases.BASES)})')
    if not listed or len(set(listed)) != len(listed):
        raise ScenarioError(f'{path}: bases must list each base once, '
                            f'at least one')
    if sc.get('package') and (listed != [bases.DEB_KERNEL['base']] or
                              sc['arch'] != bases.DEB_KERNEL['arch']):
        raise ScenarioError(f'{path}: package = true boots make deb\'s '
                            f'kernel: bases = ["{bases.DEB_KERNEL["base"]}"]'
                            f' and arch = "{bases.DEB_KERNEL["arch"]}"')
    backport = [b for b in bases.BASES if b != bases.DEFAULT]
    if sc.get('backport') and not set(backport) & set(listed):
        raise ScenarioError(f'{path}: backport = true, but bases lists no '
                            f'backport ({", ".join(backport)})')


def _check_apic_ids(path, sc):
    """apic_ids: x86_64, integers rising from 0 (the boot CPU), one per
    vCPU (smp absent or equal to their number)."""
    if 'apic_ids' not in sc:
        return
    ids = sc['apic_ids']
    where = f'{path}: apic_ids'
    if sc['arch'] != 'x86_64':
        raise ScenarioError(f'{where}: x86_64 only')
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ScenarioError(f'{where}: APIC IDs are integers')
    if ids[:1] != [0]:
        raise ScenarioError(f'{where}: the first (the boot CPU\'s) must be 0')
    if any(a >= b for a, b in zip(ids, ids[1:])):
        raise ScenarioError(f'{where}: must rise strictly')
    if ids[-1] > APIC_ID_MAX:
        raise ScenarioError(f'{where}: {ids[-1]} is above {APIC_ID_MAX}')
    if ids[-1] > XAPIC_ID_MAX and qemu_versions(sc) != ['10']:
        raise ScenarioError(f'{where}: {ids[-1]} is above {XAPIC_ID_MAX}: '
                            f'needs qemu "10" (x2APIC, eim=on)')
    if sc.get('smp', len(ids)) != len(ids):
        raise ScenarioError(f'{where}: {len(ids)} vCPUs, but smp = '
                            f'{sc["smp"]}')


def cpu_args(sc, arch):
    """-smp, and with apic_ids a -device for each vCPU after the boot
    CPU, at its APIC ID (see APIC_ID_MAX)."""
    ids = sc.get('apic_ids')
    if not ids:
        return ['-smp', str(sc.get('smp', 2))]
    n = ids[-1] + 1
    model = arch.qemu_base[arch.qemu_base.index('-cpu') + 1].split(',')[0]
    args = ['-smp', f'1,maxcpus={n},sockets=1,dies=1,cores={n},threads=1']
    for i in ids[1:]:
        args += ['-device', f'{model}-x86_64-cpu,socket-id=0,core-id={i},'
                 f'thread-id=0']
    return args


def _check_disk(where, sc, disk, ids, required, keys=None):
    """A [[disk]] or [[hotplug]] table; its id joins ids."""
    _check_keys(where, disk, keys or DISK_KEYS, required)
    _check_expect(where, disk['expect'], DISK_EXPECT_KEYS)
    _check_expect_on(where, disk, DISK_EXPECT_KEYS)
    for key in ('irq_cpus', 'irq_cpus_max'):
        if key in disk['expect'] and disk['expect']['dma'] == 'skip':
            raise ScenarioError(f'{where}: {key} needs a DMA check')
    if not re.fullmatch(r'[A-Za-z0-9_-]{1,20}', disk['id']):
        raise ScenarioError(f'{where}: id must be a short serial')
    if disk['id'] in ids:
        raise ScenarioError(f'{where}: duplicate id "{disk["id"]}"')
    ids.add(disk['id'])
    if disk['expect'].get('dma') is None:
        raise ScenarioError(f'{where}: every disk states its dma result')
    if disk['expect']['dma'] == 'skip' and 'dma_skip' not in sc:
        raise ScenarioError(f'{where}: dma "skip" needs a top-level '
                            f'dma_skip reason')
    disk['bytes'] = parse_size(disk.get('size', '4M'))
    if disk['bytes'] % 65536:
        raise ScenarioError(f'{where}: size must be a multiple of 64K')


def _check_root_disk(path, sc):
    roots = [d['id'] for d in sc.get('disk', []) if d.get('root')]
    if len(roots) > 1:
        raise ScenarioError(f'{path}: one boot disk at most (root = true '
                            f'on {", ".join(roots)})')
    if roots and sc['arch'] != 'x86_64':
        raise ScenarioError(f'{path}: a boot disk needs x86_64 (only its '
                            f'test kernel has ext2 built in)')
    if sc.get('package') and not roots:
        raise ScenarioError(f'{path}: package = true needs a boot disk '
                            f'(root = true on one [[disk]]): the packaged '
                            f'kernel\'s initramfs mounts its root from it')
    if sc.get('package'):
        _check_package_steps(path, sc)
    if roots and root_disk(sc)['expect']['dma'] == 'skip':
        raise ScenarioError(f'{path}: the boot disk {roots[0]} needs its '
                            f'DMA check')


# Drivers that the packaged kernel has as modules which its initramfs
# does not load (it loads what udev finds devices for and the root file
# system needs) and which the boot disk, holding no modules, cannot load.
PACKAGE_UNLOADED = ('pci-stub', 'vfio-pci')


def _check_package_steps(path, sc):
    """A packaged kernel's scenario asks for no driver it cannot load:
    hold_disks (pci-stub.ids=) and binds to PACKAGE_UNLOADED."""
    if 'hold_disks' in sc:
        raise ScenarioError(f'{path}: hold_disks needs pci-stub built in; '
                            f'the packaged kernel has it as a module that '
                            f'its initramfs does not load')
    for i, step in enumerate(steps(sc)):
        word, *args = step.split()
        if word == 'bind' and args[-1:] and args[-1] in PACKAGE_UNLOADED:
            raise ScenarioError(f'{path}: steps[{i}]: {args[-1]} is a '
                                f'module the packaged kernel\'s initramfs '
                                f'does not load')


def root_disk(sc):
    """The [[disk]] the guest boots from (root = true), or None."""
    return next((d for d in sc.get('disk', []) if d.get('root')), None)


def _dma_ids(sc):
    """Disks whose data the guest checks (their expect is not skip)."""
    return {d['id'] for d in disks(sc) if d['expect']['dma'] != 'skip'}


def _check_steps(path, sc):
    """Known steps with the right number of arguments; each [[hotplug]]
    plugged by exactly one step."""
    plugged = []
    for i, step in enumerate(sc.get('steps', [])):
        where = f'{path}: steps[{i}]'
        if not isinstance(step, str) or not step.split():
            raise ScenarioError(f'{where}: steps are non-empty strings')
        word, *args = step.split()
        if word == KSELFTEST_STEP:
            raise ScenarioError(f'{where}: "kselftest" is appended to every '
                                f'scenario\'s steps, do not list it')
        if word not in STEP_ARGS:
            raise ScenarioError(f'{where}: unknown step "{word}"')
        least, most = STEP_ARGS[word]
        if len(args) < least or (most is not None and len(args) > most):
            raise ScenarioError(f'{where}: wrong number of arguments for '
                                f'"{word}"')
        if word == 'dma' and args and args[0] not in _dma_ids(sc):
            raise ScenarioError(f'{where}: no disk "{args[0]}" with a DMA '
                                f'check')
        if word == 'hotplug':
            plugged.append(args[0])
        if word == 'master' and args[1] not in MASTER_VALUES:
            raise ScenarioError(f'{where}: "master" sets {" or ".join(MASTER_VALUES)}')
    hps = {hp['id']: hp for hp in sc.get('hotplug', [])}
    companions = [c for hp in hps.values() for c in hp.get('before', [])]
    for c in companions:
        if c not in hps or companions.count(c) != 1 or hps[c].get('before'):
            raise ScenarioError(f'{path}: "before" names "{c}", which is no '
                                f'[[hotplug]] of its own, or twice')
    for hp in sc.get('hotplug', []):
        want = 0 if hp['id'] in companions else 1
        if plugged.count(hp['id']) != want:
            raise ScenarioError(f'{path}: hotplug "{hp["id"]}" needs '
                                f'{"no" if not want else "exactly one"} '
                                f'"hotplug {hp["id"]}" step')
    for hid in plugged:
        if hid not in {hp['id'] for hp in sc.get('hotplug', [])}:
            raise ScenarioError(f'{path}: step "hotplug {hid}" names no '
                                f'[[hotplug]]')


def _check_checks(path, sc):
    """Each [[check]] names a step of the right kind and a known id."""
    devices = {d['id']: d for d in sc.get('device', [])}
    all_steps = steps(sc)
    for i, chk in enumerate(sc.get('check', [])):
        where = f'{path}: check[{i}]'
        _check_keys(where, chk, CHECK_KEYS, ('step', 'id'))
        _check_expect(where, {k: v for k, v in chk.items()
                              if k in EXPECT_KEYS})
        n, ident = chk['step'], chk['id']
        if not 1 <= n <= len(all_steps):
            raise ScenarioError(f'{where}: no step {n} (steps are 1 to '
                                f'{len(all_steps)})')
        word, *args = all_steps[n - 1].split()
        if ident not in devices and ident not in {d['id'] for d in disks(sc)}:
            raise ScenarioError(f'{where}: unknown id "{ident}"')
        if 'err' in chk:
            if len(chk) != 3:
                raise ScenarioError(f'{where}: err is checked on its own')
            if word not in WRITE_STEPS:
                raise ScenarioError(f'{where}: step {n} is no '
                                    f'{", ".join(WRITE_STEPS)} step')
        elif 'dma' in chk:
            if any(k in chk for k in REPORT_KEYS):
                raise ScenarioError(f'{where}: dma and report keys belong '
                                    f'to different steps')
            if word != 'dma' or args[:1] not in ([], [ident]):
                raise ScenarioError(f'{where}: step {n} does not check the '
                                    f'DMA of "{ident}"')
            if ident not in _dma_ids(sc) or chk['dma'] == 'skip':
                raise ScenarioError(f'{where}: "{ident}" has no DMA check')
        elif any(k in chk for k in REPORT_KEYS):
            if word != 'report':
                raise ScenarioError(f'{where}: step {n} is not a report')
            if ident in devices and 'bdf' not in devices[ident]:
                raise ScenarioError(f'{where}: device "{ident}" needs "bdf"')
        else:
            raise ScenarioError(f'{where}: nothing to check')


def _external_facing_port(where, sc, dev):
    """(slot, function) on pcie.0 of a root port marked external_facing."""
    if sc['arch'] != 'x86_64' or dev['driver'] != 'pcie-root-port':
        raise ScenarioError(f'{where}: external_facing is for an x86_64 '
                            f'pcie-root-port')
    props = parse_props(where, dev.get('props', ''))
    m = re.fullmatch(r'(?:0x)?([0-9a-fA-F]{1,2})(?:\.([0-7]))?',
                     props.get('addr', ''))
    if props.get('bus') != 'pcie.0' or not m or int(m.group(1), 16) > 31:
        raise ScenarioError(f'{where}: external_facing needs bus=pcie.0 and '
                            f'an addr=SLOT[.FUNCTION] (the SSDT names the '
                            f'port under \\_SB.PCI0 by its address)')
    return int(m.group(1), 16), int(m.group(2) or 0)


def external_facing_ports(sc):
    """[(slot, function)] of the root ports the scenario's firmware marks
    external-facing (acpi.external_facing_ssdt())."""
    return [_external_facing_port(sc['name'], sc, d)
            for d in sc.get('device', []) if d.get('external_facing')]


def qemu_args(sc, kernel, initrd, append, out_path, console_path, images,
              qmp_path, qemu=None, acpi_tables=()):
    """The QEMU command line for a scenario (no environment assumed);
    initrd None for a guest that boots from its boot disk.
    qemu: the binary and its own first arguments (default: the arch's
    QEMU on PATH, Debian's 7.2); acpi_tables: files of whole ACPI tables
    to add (QEMU's -acpitable file=)."""
    arch = ARCHES[sc['arch']]
    base = list(arch.qemu_base)
    args = [*(qemu or [arch.qemu]), *base,
            '-machine', sc['machine'],
            *cpu_args(sc, arch), '-m', sc.get('memory', '1G'),
            '-nodefaults', '-no-user-config', '-display', 'none',
            '-no-reboot',
            '-chardev', f'file,id=con,path={console_path}',
            '-serial', 'chardev:con',
            '-qmp', f'unix:{qmp_path},server=on,wait=off',
            '-kernel', kernel, *(['-initrd', initrd] if initrd else []),
            '-append', append]
    args += [a.format(path=out_path) for a in arch.channel_args]
    fw = sc.get('firmware', 'none')
    if fw != 'none':
        args += ['-bios', arch.firmware[fw]]
    for path in acpi_tables:
        args += ['-acpitable', f'file={path}']
    # The IOMMU first: QEMU wants it created before the devices it covers.
    if sc.get('iommu'):
        args += ['-device', sc['iommu']]
    for dev in sc.get('device', []):
        props = dev.get('props', '')
        args += ['-device', f'{dev["driver"]},id={dev["id"]}' +
                 (f',{props}' if props else '')]
    plugged = {hp['id'] for hp in sc.get('hotplug', [])}
    for disk in disks(sc):
        did = disk['id']
        args += ['-drive', f'file={images[did]},format=raw,if=none,'
                 f'id=drv-{did},cache=writeback']
        if did in plugged:
            continue        # its device comes later, by QMP device_add
        props = disk_props(sc) + (',' + disk['props'] if 'props' in disk
                                  else '')
        args += ['-device', f'virtio-blk-pci,drive=drv-{did},id={did},'
                 f'serial={did},bus={disk["bus"]},{props}']
    return args


# tests/kunit.toml: a table per arch, and optionally a table per base
# whose kernels run other suites ([BASE.ARCH] with its own suites).  skips:
# per suite, the cases that may skip in that kernel; any other skip fails.
KUNIT_ARCH_KEYS = {'machine': str, 'suites': list, 'skips': dict}
KUNIT_BASE_KEYS = {'suites': list, 'skips': dict}


def _check_suites(where, suites):
    if not all(isinstance(x, str) and x for x in suites) or \
            len(set(suites)) != len(suites):
        raise ScenarioError(f'{where}: suites are names, each once')


def _check_skips(where, table):
    for suite, cases in table.get('skips', {}).items():
        if suite not in table['suites']:
            raise ScenarioError(f'{where}: skips of "{suite}", which is not '
                                f'among its suites')
        if not isinstance(cases, list) or not cases or \
                not all(isinstance(x, str) and x for x in cases) or \
                len(set(cases)) != len(cases):
            raise ScenarioError(f'{where}: skips of "{suite}" are case '
                                f'names, each once')


def load_kunit(path):
    """The KUnit boots of tests/kunit.toml, checked as strictly as a
    scenario: {base: {arch: {'machine': ..., 'suites': [...], 'skips':
    {suite: [case, ...]}}}} for every base and arch, a base's own
    [BASE.ARCH] replacing that arch's suites and skips."""
    try:
        with open(path, 'rb') as f:
            cfg = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ScenarioError(f'{path}: {e}') from e
    for key in cfg:
        if key not in ARCHES and key not in bases.BASES:
            raise ScenarioError(f'{path}: unknown key "{key}" (an arch or a '
                                f'base)')
    for arch in ARCHES:
        _check_keys(f'{path}: {arch}', cfg.get(arch), KUNIT_ARCH_KEYS,
                    ('machine', 'suites'))
        _check_suites(f'{path}: {arch}', cfg[arch]['suites'])
        _check_skips(f'{path}: {arch}', cfg[arch])
    plan = {}
    for base in bases.BASES:
        own = cfg.get(base, {})
        _check_keys(f'{path}: {base}', own, dict.fromkeys(ARCHES, dict))
        plan[base] = {}
        for arch in ARCHES:
            where = f'{path}: {base}.{arch}'
            if arch in own:
                _check_keys(where, own[arch], KUNIT_BASE_KEYS,
                            ('suites',))
                _check_suites(where, own[arch]['suites'])
                _check_skips(where, own[arch])
            # a base's own suites come with their own skips, or none
            plan[base][arch] = {**cfg[arch], 'skips': {}, **own[arch]} \
                if arch in own else {'skips': {}, **cfg[arch]}
    return plan


def all_scenarios(root):
    d = os.path.join(root, 'scenarios')
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if f.endswith('.toml'))
