"""Report: a boot's result.json, and its table and failed checks on the
terminal."""
import json
import os

import scenario as scn
from judges import outcome
from launch import ROOT


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
    hdr = ('BDF', 'ID', 'DRIVER', 'GROUP', 'TYPE', 'IOMMU', 'IRQ', 'STATE',
           'MASTER', 'SERIAL', 'DMA')
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
                     'not-translated', d['iommu'], d['irq'],
                     d.get('state', '-'), d.get('master', '-'), d['serial'],
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
