#!/usr/bin/env python3
"""make bench: figures for the series, measured side by side in one boot.

Usage: bench.py [--arch x86_64|arm64] [--rounds N] [--boots N]
                [--match-boots N] [--only-match] [--no-readme]

For each architecture, one boot of bench/<topology>.toml on the benchmark
kernel (build/obj-ARCH-bench, no debug options) with three identical disks:
A translated (default DMA domain), B translated but asking for identity
(pci=iommu_default_domain=), C on a bypassed bridge.  After the scenario's own
expectations (group types, DMA checked end to end) the guest runs:

  blkbench   O_DIRECT sequential read and write of each whole disk in 1 MiB
             requests and 4 KiB random reads, disk after disk, ROUNDS times
  trace      the kprobe events of the boot: every default-domain setup,
             allocation and domain free, read back from the trace buffer
  dma_map_benchmark (the kernel's own instrument, bound to each disk in
             turn through driver_override): map and unmap latency for 1 and
             2 threads and several buffer sizes, ROUNDS times

Then, on x86_64, the boot cost of the feature: bench/q35-vtd-boot32.toml
booted BOOTS times with and without a 64-entry pci=iommu_default_domain=,
alternating, timed to "Run /init" by the kernel's own clock.  And the cost
of matching that list, in the kernel's own time: the same topology and
list booted MATCH_BOOTS times on v1 (a benchmark kernel of v1's 6.12
backport, frozen in bench/v1-deb12/) and on v2 (mainline's), alternating,
with a kprobe and a kretprobe on the function that sets a new device's
request (v1's pci_set_iommu_passthrough(), v2's pci_set_iommu_request(),
each with its own spelling of the list), the whole
of what pci_device_add() spends on the list: the time between each entry
and its return, from the trace buffer's timestamps (microseconds), summed
over the 32 functions, which the guest removes and rescans (boot-time
kprobes come too late for the boot's own scan); with and without the time
spent logging, and the allocations (kmemdup_nul()) in between.

Medians of the rounds are the figures; ratios are taken within one boot.
Results go to build/bench/results.json and results.md, the plot to
build/bench/dma-map.png (copied to bench/dma-map.png), and the figures to
the README between the bench markers.  A boot that misses its expectations, or a proof that fails, makes
the run exit 1 after writing what it measured.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

import boot
import launch
import records
import scenario as scn
import supervise

ROOT = launch.ROOT
BUILD = launch.BUILD
OUT = os.path.join(BUILD, 'bench')
TOPOLOGY = {'x86_64': 'q35-vtd', 'arm64': 'arm64-smmuv3-iort'}
BOOT32 = 'q35-vtd-boot32'
DISKS = ('A', 'B', 'C')
THREADS = (1, 2)
GRANULES = (1, 16, 256)         # pages per mapping: 4 KiB, 64 KiB, 1 MiB
MAP_SECS = 2                    # each dma_map_benchmark run
BLK_SECS = 3                    # random reads per round
TARGET_B_OVER_C = 1.1           # identity costs at most 10% over no IOMMU
TARGET_A_OVER_B = 5.0           # translation costs at least 5x identity
TARGET_BOOT = 0.01              # the list adds under 1% to boot time
TARGET_MATCH = 10.0             # v2 matches the list >= 10x faster than v1
# dma_map_benchmark reports in steps of 100 ns and rounds down twice:
# each sample (div64_ul() in kernel/dma/map_benchmark.c), then the mean
# of the samples (div64_u64()).  Each of map and unmap reads up to 0.2 us
# low, their sum up to READ_LOW, never high.  B <= 1.1 x C is judged on
# the sum over every size and thread count, and per configuration with
# RESOLUTION added to C, as first set; that is less than READ_LOW, so the
# per-configuration test is stricter than the instrument's own bound.
RESOLUTION = 0.2
READ_LOW = 0.4

# Every default-domain setup (per group), what it allocated, every free.
# The allocation is probed where the benchmark kernel has it: gcc inlines
# the static iommu_group_alloc_default_domain() into its only caller in
# the benchmark configuration (v7.3-rc7 with the series: only
# __iommu_group_alloc_default_domain.isra.0 is in System.map), and a
# kretprobe on a symbol that is not there fails (trace_kprobe: "Failed to
# add event(-22)"), so the proof saw no allocation at all.  The helper it
# calls returns the same domain, once per attempt: a fallback to another
# type shows as a second event, which the proof counts against it.
ALLOC_FUNCS = ('iommu_group_alloc_default_domain',
               '__iommu_group_alloc_default_domain')


def alloc_symbol(obj_dir):
    """The first of ALLOC_FUNCS that the kernel of obj_dir has as a text
    symbol, under its own name or a compiler clone's (NAME.isra.N)."""
    with open(os.path.join(obj_dir, 'System.map')) as f:
        names = sorted(p[2] for p in (ln.split() for ln in f)
                       if len(p) == 3 and p[1] in ('t', 'T'))
    for func in ALLOC_FUNCS:
        for name in names:
            if name == func or name.startswith(func + '.'):
                return name
    raise ValueError(f'{obj_dir}/System.map has none of '
                     f'{", ".join(ALLOC_FUNCS)}')


def kprobes(obj_dir):
    """kprobe_event= of the main boot's default-domain proof."""
    return ';'.join([
        'p:vb/vb_setup,iommu_setup_default_domain,grp=$arg1',
        f'r:vb/vb_alloc,{alloc_symbol(obj_dir)},dom=$retval',
        'p:vb/vb_free,iommu_domain_free,dom=$arg1',
    ])


def bench_kernel(arch, base='mainline'):
    """The boot settings of the benchmark kernel and initramfs of arch (of
    another base's tree with base, such as v1's, 'v1-deb12')."""
    obj = f'obj-{arch}-bench' if base == 'mainline' else \
        f'obj-{base}-{arch}-bench'
    return launch.Settings(
        obj_dir=os.path.join(BUILD, obj),
        initramfs=os.path.join(BUILD, f'initramfs-bench-{arch}.cpio'),
        runs=os.path.join(OUT, 'runs'))


# What pci_device_add() spends on the list: the function that sets a new
# device's request, entry and return.  v1 and v2 name the function, the
# parameter and the word for translation differently (v2 with the types
# of the group type file, issue 17 point 8); the role is the same.
# kmemdup_nul() is the allocation of pci_dev_str_match_path(), which v1's
# matching reached for every path entry and every device (GFP_ATOMIC):
# counted when it fires between an entry and its return.  v1 also logged a
# line there for each matched device (v2 leaves that to the IOMMU core):
# the time in vprintk_emit() within the window is taken out for the
# matching figure, on which the target is judged.
DIALECTS = {
    'v1': {'param': 'iommu_passthrough', 'func': 'pci_set_iommu_passthrough',
           'translate': 'translate'},
    'v2': {'param': 'iommu_default_domain', 'func': 'pci_set_iommu_request',
           'translate': 'DMA-FQ'},
}


def match_probes(version):
    func = DIALECTS[version]['func']
    return ';'.join([
        f'p:vb/vb_pt_in,{func}',
        f'r:vb/vb_pt_out,{func}',
        'p:vb/vb_pt_dup,kmemdup_nul',
        'p:vb/vb_pk_in,vprintk_emit',
        'r:vb/vb_pk_out,vprintk_emit',
    ])


MATCH_KERNELS = (('v1', 'v1-deb12'), ('v2', 'mainline'))


def match_times(recs):
    """Per call of the request's setter: the microseconds from its
    vb_pt_in to the vb_pt_out after it, and those of them spent in
    vprintk_emit(); and how many vb_pt_dup (allocations) fell in between."""
    out, printk, dups = [], [], 0
    start = pk_start = None
    pk = 0.0
    for r in recs:
        if r['kind'] != 'trace' or 'ts' not in r:
            continue
        ts, ev = float(r['ts']), r['event']
        if ev == 'vb_pt_in':
            start, pk, pk_start = ts, 0.0, None
        elif start is None:
            continue
        elif ev == 'vb_pt_dup':
            dups += 1
        elif ev == 'vb_pk_in':
            pk_start = ts
        elif ev == 'vb_pk_out' and pk_start is not None:
            pk += ts - pk_start
            pk_start = None
        elif ev == 'vb_pt_out':
            out.append((ts - start) * 1e6)
            printk.append(pk * 1e6)
            start = None
    return out, printk, dups


def rescan_steps(sc):
    """Remove the 32 functions and rescan: pci_device_add() runs again for
    each, with the boot's list.  Boot-time kprobe events are registered at
    fs_initcall, after the ACPI PCI scan of subsys_initcall, so the first
    pass of the boot cannot be traced; the rescan runs the same code."""
    return ([f'sysfs /sys/bus/pci/devices/{d["bdf"]}/remove 1'
             for d in sc['device']] + ['sysfs /sys/bus/pci/rescan 1'])


def match_cost(boots):
    """Kernel time in the request's setter for the 32 functions of
    a rescan under the 64-entry list, v1 and v2 alternating."""
    path = os.path.join(ROOT, 'bench', f'{BOOT32}.toml')
    # ftrace=nop gives the trace buffer its full size at boot; boot-time
    # kprobe events alone leave it at a page per CPU, which the printk
    # events of the rescan overrun (the first functions' events are lost).
    sums = {v: [] for v, _ in MATCH_KERNELS}
    quiet = {v: [] for v, _ in MATCH_KERNELS}
    per_call = {v: [] for v, _ in MATCH_KERNELS}
    calls = {v: [] for v, _ in MATCH_KERNELS}
    allocs = {v: [] for v, _ in MATCH_KERNELS}
    bad = []
    print(f'>> x86_64: matching cost, {boots} boots each of v1 and v2',
          flush=True)
    for i in range(boots):
        for version, base in MATCH_KERNELS:
            sc = scn.load(path)
            sc = scn.variant(sc, name=f'{BOOT32}-match-{version}',
                             steps=[s for s in sc['steps']
                                    if s != scn.KSELFTEST_STEP] +
                             rescan_steps(sc) + ['trace'])
            d = DIALECTS[version]
            extra = (f'pci={d["param"]}={pt_list(version)} ftrace=nop '
                     f'kprobe_event={match_probes(version)}')
            res = boot.boot(sc, quiet=True, extra_cmdline=extra,
                            settings=bench_kernel('x86_64', base))
            recs = records.parse_verdict(os.path.join(
                ROOT, res['run_dir'], 'verdict.log'))
            times, printk, dups = match_times(recs)
            if res['outcome'] != 'pass':
                bad.append(f'match {version}#{i + 1}: ' + ', '.join(
                    c['name'] for c in res['checks'] if not c['ok']))
            if len(times) != 32:
                bad.append(f'match {version}#{i + 1}: {len(times)} calls '
                           'traced, not one per function of the 32')
                continue
            sums[version].append(sum(times))
            quiet[version].append(sum(times) - sum(printk))
            per_call[version].append(median(
                [t - p for t, p in zip(times, printk)]))
            calls[version].append(len(times))
            allocs[version].append(dups)
    m1, m2 = median(sums['v1']), median(sums['v2'])
    q1, q2 = median(quiet['v1']), median(quiet['v2'])
    c1, c2 = median(per_call['v1']), median(per_call['v2'])
    return {'boots': boots, 'sums_us': sums, 'calls': calls,
            'allocs': allocs, 'quiet_us': quiet, 'per_call_us': per_call,
            'median_v1_us': m1, 'median_v2_us': m2,
            'ratio': m1 / m2 if m1 and m2 else None,
            'quiet_v1_us': q1, 'quiet_v2_us': q2,
            'quiet_ratio': q1 / q2 if q1 and q2 else None,
            'call_v1_us': c1, 'call_v2_us': c2,
            'call_ratio': c1 / c2 if c1 and c2 else None, 'failed': bad}


def bench_steps(sc, rounds):
    """The steps of the main boot, after report and dma."""
    steps = ['report', 'dma', f'blkbench {rounds} {BLK_SECS}', 'trace']
    bdfs = {d['id']: d['bdf'] for d in sc['disk']}
    for disk in DISKS:
        bdf = bdfs[disk]
        steps += [f'sysfs /sys/bus/pci/devices/{bdf}/driver_override '
                  'dma_map_benchmark', f'unbind {bdf}']
    # Rounds outermost and the disks in a rotated order each round, so that
    # a slow patch of the host, or what one disk's run leaves behind (a
    # flush queue still draining after A), spreads over every disk instead
    # of landing on one.  The instrument serves one device at a time: bind
    # it to each disk in turn.
    for r in range(rounds):
        for disk in DISKS[r % len(DISKS):] + DISKS[:r % len(DISKS)]:
            bdf = bdfs[disk]
            steps.append(f'bind {bdf} dma_map_benchmark')
            for t in THREADS:
                for g in GRANULES:
                    steps.append(f'exec /vb/dma_map_benchmark -t {t} '
                                 f'-s {MAP_SECS} -g {g} -b 64')
            steps.append(f'unbind {bdf}')
    # No kselftest: a variant's steps are all it runs (scn.variant()),
    # and a benchmark boot times its own.
    return steps


MAP_LINE = re.compile(r'average (map|unmap) latency\(us\):([\d.]+) '
                      r'standard deviation:([\d.]+)')


def parse_map(output):
    """(map us, map sd, unmap us, unmap sd) from the tool's output."""
    got = {}
    for line in output:
        m = MAP_LINE.search(line)
        if m:
            got[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    if set(got) != {'map', 'unmap'}:
        return None
    return got['map'] + got['unmap']


def median(xs):
    return statistics.median(xs) if xs else None


def main_boot(arch, rounds):
    settings = bench_kernel(arch)
    path = os.path.join(ROOT, 'bench', f'{TOPOLOGY[arch]}.toml')
    sc = scn.load(path)
    sc = scn.variant(sc, steps=bench_steps(sc, rounds))
    print(f'>> {arch}: one boot of bench/{TOPOLOGY[arch]}.toml, '
          f'{len(sc["steps"])} steps', flush=True)
    res = boot.boot(sc, quiet=True,
                    extra_cmdline=f'kprobe_event={kprobes(settings.obj_dir)}',
                    settings=settings)
    run = os.path.join(ROOT, res['run_dir'])
    recs = records.parse_verdict(os.path.join(run, 'verdict.log'))
    out = {'arch': arch, 'boot': res['outcome'], 'seconds': res['seconds'],
           'failed': [c for c in res['checks'] if not c['ok']],
           'run_dir': res['run_dir']}
    out.update(provenance(res['run_dir']))
    out['blk'] = blk_figures(recs)
    out['dma_map'] = map_figures(sc, recs)
    out['domains'] = domain_proof(recs)
    return out


def provenance(run_dir):
    """What a boot ran on, from its run directory: the kernel's release
    (its console), the QEMU binary's version and the -cpu model (the
    command line the harness saved)."""
    run = os.path.join(ROOT, run_dir)
    out = {'kernel': None, 'qemu': None, 'cpu': None}
    try:
        with open(os.path.join(run, 'console.log'), errors='replace') as f:
            m = re.search(r'Linux version (\S+)', f.read())
        out['kernel'] = m and m.group(1)
        with open(os.path.join(run, 'qemu.cmd')) as f:
            cmd = f.read().split()
    except OSError:
        return out
    if '-cpu' in cmd:
        out['cpu'] = cmd[cmd.index('-cpu') + 1]
    try:
        ver = subprocess.run([cmd[0], '--version'], capture_output=True,
                             text=True, timeout=30).stdout
        m = re.search(r'version (\S+)', ver)
        out['qemu'] = m and m.group(1)
    except (OSError, subprocess.TimeoutExpired):
        pass
    return out


def blk_figures(recs):
    per = {}
    for r in recs:
        if r['kind'] == 'blk' and r['rc'] == '0':
            d = per.setdefault(r['serial'], {'seqread': [], 'seqwrite': [],
                                             'randread': []})
            for k in d:
                d[k].append(float(r[k]))
    return {disk: {k: {'median': median(v), 'min': min(v), 'max': max(v),
                       'n': len(v)} for k, v in d.items()}
            for disk, d in per.items()}


def map_figures(sc, recs):
    """Per disk, threads and granule: medians over the rounds of the
    average map and unmap latency, with the range of the rounds."""
    steps = sc['steps']
    bdf_disk = {d['bdf']: d['id'] for d in sc['disk']}
    bound = None
    runs = {}
    for n, step in enumerate(steps, 1):
        words = step.split()
        if words[0] == 'bind' and words[2] == 'dma_map_benchmark':
            bound = bdf_disk[words[1]]
        if words[0] != 'exec' or 'dma_map_benchmark' not in words[1]:
            continue
        t, g = int(words[words.index('-t') + 1]), int(
            words[words.index('-g') + 1])
        rec = next((r for r in recs if r['kind'] == 'step' and
                    r.get('step') == str(n)), None)
        got = parse_map(rec.get('output', [])) if rec else None
        runs.setdefault(f'{bound}/{t}/{g}', []).append(got)
    figs = {}
    for key, vals in runs.items():
        ok = [v for v in vals if v]
        total = [v[0] + v[2] for v in ok]
        figs[key] = {
            'runs': len(vals), 'ok': len(ok),
            'map': median([v[0] for v in ok]),
            'map_sd': median([v[1] for v in ok]),
            'unmap': median([v[2] for v in ok]),
            'unmap_sd': median([v[3] for v in ok]),
            'total': median(total),
            'total_min': min(total) if total else None,
            'total_max': max(total) if total else None,
        }
    return figs


def domain_proof(recs):
    """Each group's default domain set up and allocated once during boot,
    and no domain freed (a DMA domain built and then replaced would be)."""
    ev = [r for r in recs if r['kind'] == 'trace']
    setups = {}
    for r in ev:
        if r['event'] == 'vb_setup':
            setups[r['grp']] = setups.get(r['grp'], 0) + 1
    allocs = sum(r['event'] == 'vb_alloc' for r in ev)
    frees = sum(r['event'] == 'vb_free' for r in ev)
    first_report = min((int(r['step']) for r in recs if r['kind'] == 'dev'),
                       default=None)
    groups = {r['group'] for r in recs if r['kind'] == 'dev' and
              int(r['step']) == first_report and r['group'] != 'none'}
    ok = (len(setups) == len(groups) and
          all(c == 1 for c in setups.values()) and
          allocs == len(setups) and frees == 0 and bool(groups))
    return {'groups': len(groups), 'groups_set_up': len(setups),
            'most_setups_per_group': max(setups.values(), default=0),
            'allocations': allocs, 'frees': frees, 'ok': ok}


def pt_list(version='v2'):
    """64 entries: the 32 functions by address, asking for translation
    (v1's translate, v2's DMA-FQ: under the lazy default of the benchmark
    kernel both keep every group's type), and 32 addresses on a bus that
    does not exist."""
    word = DIALECTS[version]['translate']
    present = [f'{word}@0000:00:{s:02x}.{f}' for s in range(8, 12)
               for f in range(8)]
    absent = [f'identity@0000:7{s - 8}:{s:02x}.{f}' for s in range(8, 12)
              for f in range(8)]
    return ';'.join(present + absent)


INIT_LINE = re.compile(r'^\[\s*([\d.]+)\] Run /init as init process', re.M)


def boot_cost(boots):
    """Kernel time to /init, with and without the list, alternating."""
    settings = bench_kernel('x86_64')
    path = os.path.join(ROOT, 'bench', f'{BOOT32}.toml')
    lst = pt_list()
    times = {'without': [], 'with': []}
    bad = []
    print(f'>> x86_64: boot cost, {boots} boots each way, alternating',
          flush=True)
    for i in range(boots):
        for which in ('without', 'with'):
            sc = scn.variant(scn.load(path), name=f'{BOOT32}-{which}')
            extra = (f'pci=iommu_default_domain={lst}' if which == 'with'
                     else '')
            res = boot.boot(sc, quiet=True, extra_cmdline=extra,
                            settings=settings)
            if res['outcome'] != 'pass':
                bad.append(f'{which}#{i + 1}: ' + ', '.join(
                    c['name'] for c in res['checks'] if not c['ok']))
            with open(os.path.join(ROOT, res['run_dir'], 'console.log'),
                      errors='replace') as f:
                console = f.read()
            m = INIT_LINE.search(console)
            if m:
                times[which].append(float(m.group(1)))
            else:
                bad.append(f'{which}#{i + 1}: no "Run /init" line')
            if which == 'with':
                # The list must have been taken whole: no entry rejected.
                if 'Ignoring invalid iommu_default_domain' in console:
                    bad.append(f'with#{i + 1}: an entry was rejected')
    mw, mo = median(times['with']), median(times['without'])
    # Each "with" boot against the "without" boot just before it, so that
    # a drift of the host over the run cancels out.
    diffs = [w - o for w, o in zip(times['with'], times['without'])]
    return {'entries': lst.count(';') + 1, 'devices': 32,
            'cmdline_bytes': len(lst),
            'without': times['without'], 'with': times['with'],
            'median_without': mo, 'median_with': mw,
            'ratio': mw / mo if mw and mo else None,
            'paired': median(diffs) / mo if diffs and mo else None,
            'spread_without': (min(times['without'], default=None),
                               max(times['without'], default=None)),
            'failed': bad}


def targets(res, cells=None):
    """Each target of the issue, judged on the figures of one boot.
    cells, a dict, gets the (A, B, C) figures of each latency target by
    its name."""
    out = []
    cells = {} if cells is None else cells
    for arch, r in res['arches'].items():
        dm = r['dma_map']
        sums = [0.0, 0.0, 0.0]
        for t in THREADS:
            for g in GRANULES:
                a, b, c = (dm.get(f'{d}/{t}/{g}', {}).get('total')
                           for d in DISKS)
                if not (a and b and c):
                    out.append((f'{arch} t={t} g={g}', 'no figures', False))
                    continue
                sums = [x + y for x, y in zip(sums, (a, b, c))]
                cells[f'{arch} B vs C, {t} thread(s), {g * 4} KiB'] = \
                    cells[f'{arch} A / B, {t} thread(s), {g * 4} KiB'] = \
                    (a, b, c)
                out.append((f'{arch} B vs C, {t} thread(s), {g * 4} KiB',
                            f'{b:.1f} vs {c:.1f} us, {b / c:.2f}x (<= '
                            f'{TARGET_B_OVER_C}x + {RESOLUTION} us)',
                            b <= TARGET_B_OVER_C * c + RESOLUTION))
                out.append((f'{arch} A / B, {t} thread(s), {g * 4} KiB',
                            f'{a / b:.1f}x (>= {TARGET_A_OVER_B}x)',
                            a / b >= TARGET_A_OVER_B))
        if sums[1] and sums[2]:
            out.append((f'{arch} B / C, sum over all sizes and threads',
                        f'{sums[1] / sums[2]:.2f}x (<= {TARGET_B_OVER_C}x)',
                        sums[1] / sums[2] <= TARGET_B_OVER_C))
        out.append((f'{arch} default domains allocated once',
                    json.dumps(r['domains']), r['domains']['ok']))
    bc = res.get('boot_cost')
    if bc and bc['ratio']:
        out.append(('boot to /init with the 64-entry list, medians',
                    f'{(bc["ratio"] - 1) * 100:+.2f}% (< {TARGET_BOOT:.0%})',
                    bc['ratio'] - 1 < TARGET_BOOT))
        out.append(('the same, median of the paired differences',
                    f'{bc["paired"] * 100:+.2f}% (< {TARGET_BOOT:.0%})',
                    bc['paired'] < TARGET_BOOT))
    return out


def fmt(x, spec='.1f'):
    return '-' if x is None else format(x, spec)


def markdown(res):
    lines = []
    for arch, r in res['arches'].items():
        pv = {k: r.get(k) for k in ('kernel', 'qemu', 'cpu')}
        if not all(pv.values()):
            pv = provenance(r['run_dir'])
        lines += [f'**{arch}** (`bench/{TOPOLOGY[arch]}.toml`, one boot, '
                  f'{res["rounds"]} rounds, medians; outcome of the boot\'s '
                  f'own checks: {r["boot"]}; kernel {pv["kernel"] or "?"}, '
                  f'QEMU {pv["qemu"] or "?"}, `-cpu {pv["cpu"] or "?"}`)',
                  '',
                  '| disk | seq read MB/s | seq write MB/s | 4K rand read IOPS |',
                  '|---|---|---|---|']
        for d in DISKS:
            b = r['blk'].get(d, {})
            lines.append(f'| {d} | ' + ' | '.join(
                fmt(b.get(k, {}).get('median'), '.1f' if k != 'randread'
                    else '.0f')
                for k in ('seqread', 'seqwrite', 'randread')) + ' |')
        lines += ['', '| dma_map_benchmark, us (map + unmap) | '
                  + ' | '.join(f'{d}' for d in DISKS) + ' | B/C | A/B |',
                  '|---|---|---|---|---|---|']
        for t in THREADS:
            for g in GRANULES:
                vals = [r['dma_map'].get(f'{d}/{t}/{g}', {}) for d in DISKS]
                tot = [v.get('total') for v in vals]
                cells = [f'{fmt(v.get("map"))} + {fmt(v.get("unmap"))} '
                         f'({fmt(v.get("total_min"))}-'
                         f'{fmt(v.get("total_max"))})' for v in vals]
                bc = fmt(tot[1] / tot[2], '.2f') if tot[1] and tot[2] else '-'
                ab = fmt(tot[0] / tot[1], '.1f') if tot[0] and tot[1] else '-'
                lines.append(f'| {t} thread(s), {g * 4} KiB | '
                             + ' | '.join(cells) + f' | {bc} | {ab} |')
        dp = r['domains']
        lines += ['', f'Default domains: {dp["groups"]} groups, '
                  f'{dp["groups_set_up"]} set up, at most '
                  f'{dp["most_setups_per_group"]} setup per group, '
                  f'{dp["allocations"]} allocations, {dp["frees"]} domains '
                  f'freed during boot: {"proven once each" if dp["ok"] else "NOT once each"}.',
                  '']
    bc = res.get('boot_cost')
    if bc:
        lines += [f'**Boot cost** (`bench/{BOOT32}.toml`, {len(bc["with"])} '
                  f'boots each way, alternating, kernel time to "Run /init"): '
                  f'without the list {fmt(bc["median_without"], ".3f")} s, '
                  f'with {bc["entries"]} entries over {bc["devices"]} '
                  f'devices {fmt(bc["median_with"], ".3f")} s, ratio '
                  f'{fmt(bc["ratio"], ".4f")}; median paired difference '
                  f'{fmt(bc["paired"] and bc["paired"] * 100, "+.2f")}%; '
                  f'boots without the list ranged '
                  f'{fmt(bc["spread_without"][0], ".3f")}-'
                  f'{fmt(bc["spread_without"][1], ".3f")} s.', '']
    lines += ['| target | measured | met |', '|---|---|---|']
    lines += [f'| {n} | {v} | {"yes" if ok else "**no**"} |'
              for n, v, ok in targets(res)]
    lines += ['', reading(res)]
    return '\n'.join(lines) + '\n\n'


def reading(res):
    """The figures behind each target this run missed, taken from
    targets() itself, so that the README's words cannot outlive the
    figures.  For a missed A / B, the range that the instrument's rounding
    (up to READ_LOW low on each of A and B) leaves for the true ratio."""
    cells = {}
    judged = targets(res, cells)
    lines = []
    for arch, r in res['arches'].items():
        dm = r['dma_map']
        for g in (GRANULES[0], GRANULES[-1]):
            a = [dm.get(f'A/{t}/{g}', {}).get('total') for t in THREADS]
            a = [x for x in a if x is not None]
            if a:
                lines.append(f'{arch}: A {min(a):.1f}-{max(a):.1f} us at '
                             f'{g * 4} KiB over the thread counts')
    misses = []
    for name, measured, ok in judged:
        if ok:
            continue
        text = f'{name}: {measured}'
        if name in cells:
            a, b, c = cells[name]
            text += f' (A {a:.1f}, B {b:.1f}, C {c:.1f} us'
            if ' A / B,' in name:
                text += (f'; with the rounding, between '
                         f'{a / (b + READ_LOW):.1f}x and '
                         f'{(a + READ_LOW) / b:.1f}x')
            text += ')'
        misses.append(text)
    text = '**Reading of this run.** '
    if lines:
        text += '; '.join(lines) + '. '
    if misses:
        text += ('Targets missed, with their figures: ' +
                 '; '.join(misses) + '.')
    else:
        text += 'Every target was met.'
    return text


def match_target(mc):
    """v2 at least TARGET_MATCH times below v1, and no allocation on v2's
    path: (name, measured, met)."""
    r = mc['call_ratio']
    ok = (bool(r) and r >= TARGET_MATCH and
          bool(mc['allocs']['v2']) and not any(mc['allocs']['v2']))
    return ('matching the 64-entry list: v1 / v2 kernel time per device '
            '(median, without logging), allocations on v2\'s path',
            f'{fmt(r, ".1f")}x (>= {TARGET_MATCH:.0f}x), '
            f'{max(mc["allocs"]["v2"], default="-")} (0)', ok)


def match_markdown(mc):
    """The block of the matching cost."""
    def boots(v, key='sums_us', spec='.0f'):
        return ', '.join(fmt(x, spec) for x in mc[key][v])
    name, measured, ok = match_target(mc)
    return '\n'.join([
        f'**Matching cost** (`bench/{BOOT32}.toml` with the 64-entry list, '
        f'{mc["boots"]} boots each of v1 and v2, alternating; kernel time '
        f'in `pci_set_iommu_passthrough()` (v1) and `pci_set_iommu_request()` '
        f'(v2) from a kprobe to its kretprobe, '
        f'summed over the {fmt(median(mc["calls"]["v2"]), ".0f")} functions '
        f'that a remove and rescan adds again; kprobe overhead included on '
        f'both sides, which understates the ratio): v1 {fmt(mc["median_v1_us"], ".0f")} us (boots: '
        f'{boots("v1")}), v2 {fmt(mc["median_v2_us"], ".0f")} us (boots: '
        f'{boots("v2")}), ratio {fmt(mc["ratio"], ".1f")}x.  Without the '
        f'time in `vprintk_emit()` (v1 logged a line there for each '
        f'matched device; v2 leaves that to the IOMMU core): v1 '
        f'{fmt(mc["quiet_v1_us"], ".0f")} us ({boots("v1", "quiet_us")}), '
        f'v2 {fmt(mc["quiet_v2_us"], ".0f")} us '
        f'({boots("v2", "quiet_us")}), ratio '
        f'{fmt(mc["quiet_ratio"], ".1f")}x.  The sums carry one-off costs '
        f'(under TCG a call may also translate code that runs for the '
        f'first time, or take an interrupt), so the target is '
        f'judged per device: the median over the 32 calls of a boot, '
        f'without logging, then over the boots: v1 '
        f'{fmt(mc["call_v1_us"], ".1f")} us ({boots("v1", "per_call_us", ".1f")}), '
        f'v2 {fmt(mc["call_v2_us"], ".1f")} us '
        f'({boots("v2", "per_call_us", ".1f")}), ratio '
        f'{fmt(mc["call_ratio"], ".1f")}x.  Allocations '
        f'(`kmemdup_nul()`, the GFP_ATOMIC copy of a path entry) between an '
        f'entry and its return, per boot: v1 '
        f'{", ".join(str(x) for x in mc["allocs"]["v1"])}, v2 '
        f'{", ".join(str(x) for x in mc["allocs"]["v2"])}.', '',
        '| target | measured | met |', '|---|---|---|',
        f'| {name} | {measured} | {"yes" if ok else "**no**"} |', ''])


def plot(res):
    """A PNG of the map+unmap medians per disk, size and thread count."""
    data = os.path.join(OUT, 'dma-map.dat')
    rows = []
    for arch, r in res['arches'].items():
        for t in THREADS:
            for g in GRANULES:
                vals = [r['dma_map'].get(f'{d}/{t}/{g}', {}).get('total')
                        for d in DISKS]
                rows.append(f'"{arch} {t}t {g * 4}K" ' +
                            ' '.join(fmt(v, '.2f') for v in vals))
    with open(data, 'w') as f:
        f.write('\n'.join(rows) + '\n')
    png = os.path.join(OUT, 'dma-map.png')
    script = f'''
set terminal pngcairo size 1200,500 noenhanced
set output "{png}"
set title "dma_map_benchmark: map + unmap latency, median of rounds (us, log scale)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "us"
set xtics rotate by -30
set key outside right
set datafile missing "-"
plot "{data}" using 2:xtic(1) title "A translated (DMA-FQ)", \\
     "" using 3 title "B identity (requested)", \\
     "" using 4 title "C bypassed (no IOMMU)"
'''
    r = subprocess.run(['gnuplot'], input=script, text=True,
                       capture_output=True)
    if r.returncode:
        print(f'gnuplot failed: {r.stderr.strip()}', file=sys.stderr)
        return None
    return png


BLOCKS = {'bench': ('<!-- bench:begin -->', '<!-- bench:end -->'),
          'match': ('<!-- bench-match:begin -->', '<!-- bench-match:end -->')}


def update_readme(block, md, png=None):
    """The README's block between the markers of block ('bench': the
    figures of the boots, with the plot; 'match': the matching cost)."""
    begin, end = BLOCKS[block]
    if png:
        shutil.copyfile(png, os.path.join(ROOT, 'bench', 'dma-map.png'))
        md += '\n![dma_map_benchmark medians](bench/dma-map.png)\n'
    path = os.path.join(ROOT, 'README.md')
    with open(path) as f:
        text = f.read()
    if begin not in text or end not in text:
        print(f'README has no {block} markers; not updated', file=sys.stderr)
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    body = ('\nMeasured by `make bench` (TCG, no KVM: absolute figures are '
            'those of an emulated machine; the ratios within one run are '
            'the point).\n\n' + md)
    with open(path, 'w') as f:
        f.write(head + begin + body + end + tail)


def main():
    supervise.install_signal_handlers()
    ap = argparse.ArgumentParser()
    ap.add_argument('--arch', choices=tuple(TOPOLOGY), action='append')
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--boots', type=int, default=7)
    ap.add_argument('--match-boots', type=int, default=3)
    ap.add_argument('--only-match', action='store_true',
                    help='only the matching cost (v1 and v2 kernels)')
    ap.add_argument('--no-readme', action='store_true')
    ap.add_argument('--from-json', action='store_true',
                    help='no boot: tables, plot and README from the last '
                    'results.json')
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if a.from_json:
        with open(os.path.join(OUT, 'results.json')) as f:
            res = json.load(f)
    else:
        res = {'rounds': a.rounds, 'arches': {}}
        last = os.path.join(OUT, 'results.json')
        if a.only_match and os.path.exists(last):
            # Keep the figures of the last full run beside the new ones.
            with open(last) as f:
                res = json.load(f)
        for arch in [] if a.only_match else a.arch or TOPOLOGY:
            res['arches'][arch] = main_boot(arch, a.rounds)
        x86 = 'x86_64' in (a.arch or TOPOLOGY)
        if a.boots and x86 and not a.only_match:
            res['boot_cost'] = boot_cost(a.boots)
        if a.match_boots and x86:
            res['match_cost'] = match_cost(a.match_boots)
    md = markdown(res) if res['arches'] else ''
    mmd = match_markdown(res['match_cost']) if 'match_cost' in res else ''
    with open(os.path.join(OUT, 'results.json'), 'w') as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(OUT, 'results.md'), 'w') as f:
        f.write(md + mmd)
    png = plot(res) if md else None
    print(md + mmd)
    print(f'>> results: {os.path.relpath(OUT, ROOT)}/results.json, '
          f'results.md' + (f', {os.path.relpath(png, ROOT)}' if png else ''))
    if not a.no_readme:
        if md and not a.only_match:
            update_readme('bench', md, png)
        if mmd:
            update_readme('match', mmd)
    broken = [f'{arch}: boot {r["boot"]}: ' + ', '.join(
        c['name'] for c in r['failed']) for arch, r in
        res['arches'].items() if r['boot'] != 'pass']
    broken += res.get('boot_cost', {}).get('failed', [])
    broken += res.get('match_cost', {}).get('failed', [])
    broken += [n for n, _, ok in targets(res) if not ok and 'domains' in n]
    # As the domain proof: an allocation on v2's path is a finding, not a
    # figure.
    if any(res.get('match_cost', {}).get('allocs', {}).get('v2', [])):
        broken.append('match v2: an allocation while matching the list')
    for b in broken:
        print(f'bench: {b}', file=sys.stderr)
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main())
