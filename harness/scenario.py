"""Scenario files: one QEMU topology and what must come out of it.

A scenario is a TOML file in scenarios/ (the format is described in the
README).  Loading is strict: an unknown key, a missing required key or a
value of the wrong kind is an error naming the file and the key, so a typo
cannot silently drop an expectation.
"""
import os
import re
import tomllib

from arches import ARCHES

GROUP_TYPES = ('none', 'DMA', 'DMA-FQ', 'identity', 'blocked', 'unmanaged')
IRQ_MODES = ('MSI-X', 'MSI', 'INTx', 'none')
DMA_RESULTS = ('pass', 'absent', 'skip')

TOP_KEYS = {
    'description': str, 'arch': str, 'machine': str, 'iommu': str,
    'cmdline': str, 'smp': int, 'memory': str, 'firmware': str,
    'timeout': int, 'io_timeout': int, 'dma_skip': str, 'steps': list,
    'hold_disks': str,
    'device': list, 'disk': list, 'log': dict, 'xfail': dict,
}
REQUIRED = ('description', 'arch', 'machine')
DEVICE_KEYS = {'id': str, 'driver': str, 'props': str, 'bdf': str,
               'expect': dict}
DISK_KEYS = {'id': str, 'bus': str, 'props': str, 'size': str,
             'bdf': str, 'expect': dict}
EXPECT_KEYS = {'group': str, 'irq': str, 'driver': str, 'dma': str}
LOG_KEYS = {'allow': list, 'require': list}
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
DEFAULT_STEPS = ['report', 'dma']
# With hold_disks, pci-stub holds every virtio-blk function at boot and the
# guest binds them itself, each under its watchdog (see vbinit.c).
HOLD_CMDLINE = 'pci-stub.ids=1af4:1042'
HOLD_STEPS = ['bind-held', 'report', 'dma']


def steps(sc):
    if 'steps' in sc:
        return sc['steps']
    return HOLD_STEPS if 'hold_disks' in sc else DEFAULT_STEPS


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
        if not isinstance(val, spec[key]):
            raise ScenarioError(
                f'{where}: "{key}" must be {spec[key].__name__}')
    for key in required:
        if key not in table:
            raise ScenarioError(f'{where}: missing "{key}"')


def _check_expect(where, exp):
    _check_keys(where + '.expect', exp, EXPECT_KEYS)
    if 'group' in exp and exp['group'] not in GROUP_TYPES:
        raise ScenarioError(f'{where}: group "{exp["group"]}" not one of '
                            f'{", ".join(GROUP_TYPES)}')
    if 'irq' in exp and exp['irq'] not in IRQ_MODES:
        raise ScenarioError(f'{where}: irq "{exp["irq"]}" not one of '
                            f'{", ".join(IRQ_MODES)}')
    if 'dma' in exp and exp['dma'] not in DMA_RESULTS:
        raise ScenarioError(f'{where}: dma "{exp["dma"]}" not one of '
                            f'{", ".join(DMA_RESULTS)}')


def parse_size(text):
    m = re.fullmatch(r'(\d+)([KMG]?)', text)
    if not m:
        raise ScenarioError(f'bad size "{text}"')
    return int(m.group(1)) << {'': 0, 'K': 10, 'M': 20, 'G': 30}[m.group(2)]


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        with open(path, 'rb') as f:
            sc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ScenarioError(f'{path}: {e}') from e
    _check_keys(path, sc, TOP_KEYS, REQUIRED)
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
        ids.add(dev['id'])
    for i, disk in enumerate(sc.get('disk', [])):
        where = f'{path}: disk[{i}]'
        _check_keys(where, disk, DISK_KEYS, ('id', 'bus', 'expect'))
        _check_expect(where, disk['expect'])
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
    log = sc.get('log', {})
    _check_keys(f'{path}: log', log, LOG_KEYS)
    for i, rule in enumerate(log.get('allow', [])):
        _check_keys(f'{path}: log.allow[{i}]', rule,
                    {'match': str, 'reason': str}, ('match', 'reason'))
    if 'xfail' in sc:
        _check_keys(f'{path}: xfail', sc['xfail'], XFAIL_KEYS,
                    ('reason', 'checks'))
        if not sc['xfail']['checks']:
            raise ScenarioError(f'{path}: xfail lists no checks')
    for step in sc.get('steps', []):
        if not isinstance(step, str):
            raise ScenarioError(f'{path}: steps are strings')
    sc['name'] = name
    sc['path'] = path
    return sc


def qemu_args(sc, kernel, initrd, append, out_path, console_path, images,
              qmp_path):
    """The QEMU command line for a scenario (no environment assumed)."""
    arch = ARCHES[sc['arch']]
    args = [arch.qemu, *arch.qemu_base,
            '-machine', sc['machine'],
            '-smp', str(sc.get('smp', 2)), '-m', sc.get('memory', '1G'),
            '-nodefaults', '-no-user-config', '-display', 'none',
            '-no-reboot',
            '-chardev', f'file,id=con,path={console_path}',
            '-serial', 'chardev:con',
            '-qmp', f'unix:{qmp_path},server=on,wait=off',
            '-kernel', kernel, '-initrd', initrd, '-append', append]
    args += [a.format(path=out_path) for a in arch.channel_args]
    fw = sc.get('firmware', 'none')
    if fw != 'none':
        args += ['-bios', arch.firmware[fw]]
    # The IOMMU first: QEMU wants it created before the devices it covers.
    if sc.get('iommu'):
        args += ['-device', sc['iommu']]
    for dev in sc.get('device', []):
        props = dev.get('props', '')
        args += ['-device', f'{dev["driver"]},id={dev["id"]}' +
                 (f',{props}' if props else '')]
    for disk in sc.get('disk', []):
        did = disk['id']
        args += ['-drive', f'file={images[did]},format=raw,if=none,'
                 f'id=drv-{did},cache=writeback']
        props = DISK_PROPS + (',' + disk['props'] if 'props' in disk else '')
        args += ['-device', f'virtio-blk-pci,drive=drv-{did},id={did},'
                 f'serial={did},bus={disk["bus"]},{props}']
    return args


def all_scenarios(root):
    d = os.path.join(root, 'scenarios')
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if f.endswith('.toml'))
