#!/usr/bin/env python3
"""make check: every test, one table, and the closing count.

Each check counts once: each static gate and gate self-test, the harness's
own self-test, each KUnit suite (parsed from the KTAP of a KUnit boot),
each scenario.  A scenario marked xfail that fails exactly as it says is
reported apart (neither passed nor failed); one that passes is a failure
(the fix landed: drop the mark).  A skip never counts as a pass.

Usage: check.py [--only gates|kunit|scenarios|selftest] [--arch-of NAME]
"""
import argparse
import os
import sys
import time
import tomllib

import boot
import gates
import ktap
import scenario as scn

ROOT = boot.ROOT


def kunit_checks():
    with open(os.path.join(ROOT, 'tests', 'kunit.toml'), 'rb') as f:
        cfg = tomllib.load(f)
    res = []
    for arch, spec in cfg.items():
        if not spec['suites']:
            res.append((f'kunit.{arch}', 'skip',
                        'no KUnit suite is built into this kernel yet'))
            continue
        sc = {'name': f'kunit-{arch}', 'description': f'KUnit on {arch}',
              'arch': arch, 'machine': spec['machine'], 'steps': [],
              'timeout': 600, 'path': 'tests/kunit.toml'}
        r = boot.boot(sc, quiet=True, extra_cmdline='kunit.enable=1')
        with open(os.path.join(ROOT, r['run_dir'], 'console.log'),
                  errors='replace') as f:
            console = f.read()
        plan, suites = ktap.parse(console)
        bad, _ = boot.log_findings(console, sc)
        for name in spec['suites']:
            s = suites.get(name)
            if s is None:
                st, det = 'fail', (f'suite missing from KTAP (plan {plan}, '
                                   f'saw {len(suites)} results)')
            elif s['skip']:
                st, det = 'skip', 'suite skipped itself'
            elif not s['ok']:
                st, det = 'fail', 'failed: ' + ', '.join(s['failed'])
            else:
                st, det = 'pass', 'ok'
            if bad and st == 'pass':
                st, det = 'fail', 'log: ' + bad[0]
            res.append((f'kunit.{arch}.{name}', st, det))
        if plan is not None and len(suites) < plan:
            res.append((f'kunit.{arch}.plan', 'fail',
                        f'KTAP plan {plan}, only {len(suites)} results'))
    return res


def scenario_checks(only=None):
    res = []
    for path in scn.all_scenarios(ROOT):
        try:
            sc = scn.load(path)
        except scn.ScenarioError as e:
            res.append((os.path.basename(path), 'fail', str(e)))
            continue
        if only and sc['name'] != only:
            continue
        r = boot.boot(sc, quiet=False)
        bad = [c for c in r['checks'] if not c['ok']]
        det = (f'{len(r["checks"]) - len(bad)}/{len(r["checks"])} checks, '
               f'{r["seconds"]}s')
        if r['outcome'] == 'xfail':
            det += f'; known failure: {sc["xfail"]["reason"]}'
        elif r['outcome'] == 'xpass':
            det += ('; marked xfail but these now pass: ' + ', '.join(
                sorted(set(sc['xfail']['checks']) -
                       {c['name'] for c in bad})) + ' (drop the mark)')
        elif bad:
            det += '; ' + '; '.join(f'{c["name"]}: want {c["want"]!r} got '
                                    f'{c["got"]!r}' for c in bad[:4])
        if r['dma_skip']:
            det += f'; DMA not checked: {r["dma_skip"]}'
        st = {'pass': 'pass', 'fail': 'fail', 'xfail': 'xfail',
              'xpass': 'fail'}[r['outcome']]
        res.append((f'scenario.{sc["name"]}', st, det))
    return res


def selftest_checks():
    import selftest
    failures = selftest.run()
    return [('harness.selftest', 'fail' if failures else 'pass',
             '; '.join(failures) or f'{selftest.COUNT} cases')]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', choices=('gates', 'kunit', 'scenarios',
                                       'selftest'))
    ap.add_argument('--scenario')
    ap.add_argument('--arch-of')
    a = ap.parse_args()
    if a.arch_of:
        name = a.arch_of
        path = name if os.path.exists(name) else os.path.join(
            ROOT, 'scenarios', name + '.toml')
        print(scn.load(path)['arch'])
        return 0
    t0 = time.monotonic()
    results = []
    if a.only in (None, 'selftest'):
        results += selftest_checks()
    if a.only in (None, 'gates'):
        print('>> static gates over patches/', flush=True)
        results += gates.run_all()
    if a.only in (None, 'kunit'):
        print('>> KUnit boots', flush=True)
        results += kunit_checks()
    if a.only in (None, 'scenarios'):
        print('>> scenarios', flush=True)
        results += scenario_checks(a.scenario)
    print()
    width = max(len(n) for n, _, _ in results)
    for name, st, det in results:
        first, *rest = det.split('\n')
        print(f'{st.upper():6} {name.ljust(width)}  {first}')
        for ln in rest:
            print(f'{"":6} {"":{width}}  {ln}')
    count = {s: sum(1 for _, st, _ in results if st == s)
             for s in ('pass', 'fail', 'xfail', 'skip')}
    print(f'\n{count["xfail"]} expected failure(s) (xfail, listed above, '
          f'counted apart); {int(time.monotonic() - t0)}s in all')
    line = f'{count["pass"]} passed, {count["fail"]} failed'
    if count['skip']:
        line += f', {count["skip"]} skipped'
    print(line)
    return 1 if count['fail'] else 0


if __name__ == '__main__':
    sys.exit(main())
