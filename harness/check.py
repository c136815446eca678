#!/usr/bin/env python3
"""make check: every test, one table, and the closing count.

Each check counts once: each static gate and gate self-test, the harness's
own self-test, each KUnit suite (parsed from the KTAP of a KUnit boot),
each scenario on each kernel it boots.  A scenario marked xfail that fails
exactly as it says is reported apart (neither passed nor failed); one that
passes is a failure (the fix landed: drop the mark).  A skip never counts
as a pass.

Two bases (harness/bases.py), so that the backport cannot rot unseen while
a full run on both stays affordable:
  make check      every gate, KUnit boot (both arches) and scenario on
                  mainline; on deb12 the series-drift and bisect gates,
                  the KUnit boot on x86_64 and the scenarios marked
                  backport = true
  make check-all  (--all) every gate, KUnit boot and scenario on each base
  make check-deb  (--package) the scenarios marked package = true, which
                  boot make deb's packaged backport, and nothing else
A check of a backport carries its base in its name: scenario.deb12.NAME,
kunit.deb12.ARCH.SUITE, gate.deb12.GATE.

Usage: check.py [--all | --package] [--only gates|kunit|scenarios|selftest]
                [--base BASE] [--scenario NAME] [--arch-of NAME] [--kernels]
"""
import argparse
import os
import re
import subprocess
import sys
import time
import traceback

import bases
import boot
import gates
import judges
import ktap
import launch
import scenario as scn
import supervise
from arches import ARCHES

ROOT = launch.ROOT
KUNIT = os.path.join(ROOT, 'tests', 'kunit.toml')
# make check boots a backport's KUnit on these arches only (check-all: all).
KUNIT_BACKPORT_ARCHES = ('x86_64',)


def harness_error(name, e):
    """A check that failed because the harness itself raised: one row
    naming the exception and where it came from, so that the run goes on
    and still prints its table and its count."""
    where = traceback.extract_tb(e.__traceback__)[-1]
    return (name, 'fail', f'harness error: {type(e).__name__}: {e} '
                          f'({os.path.basename(where.filename)}:'
                          f'{where.lineno})')


def named(kind, base):
    """The prefix of a base's checks: kind on mainline, kind.BASE else."""
    return kind if base == bases.DEFAULT else f'{kind}.{base}'


def kunit_arches(base, every):
    if every or base == bases.DEFAULT:
        return list(ARCHES)
    return list(KUNIT_BACKPORT_ARCHES)


def kunit_checks(base, every):
    """One check per suite of each KUnit boot of the base."""
    kunit = named('kunit', base)
    try:
        plan = scn.load_kunit(KUNIT)[base]
    except scn.ScenarioError as e:
        return [(kunit, 'fail', str(e))]
    res = []
    for arch in kunit_arches(base, every):
        try:
            res += kunit_arch_checks(kunit, base, arch, plan[arch])
        except Exception as e:     # pylint: disable=broad-except
            res.append(harness_error(f'{kunit}.{arch}', e))
    return res


def judge_suite(s, may_skip):
    """A suite's verdict from its KTAP result: a case that skipped passes
    only where tests/kunit.toml lists it for the suite, and a listed case
    that ran fails too, so that the list says what the kernel skips.  A
    suite that skipped as a whole is a skip where every case of it is
    listed, a failure otherwise."""
    if s['skip']:
        extra = [c for c in s['skipped'] if c not in may_skip]
        if s['skipped'] and not extra:
            return 'skip', ('every case skipped, as listed: ' +
                            ', '.join(s['skipped']))
        return 'fail', ('suite skipped itself' +
                        ('; not listed in tests/kunit.toml: ' +
                         ', '.join(extra) if extra else ''))
    if not s['ok']:
        return 'fail', 'failed: ' + ', '.join(s['failed'])
    extra = [c for c in s['skipped'] if c not in may_skip]
    ran = [c for c in may_skip if c not in s['skipped']]
    if extra:
        return 'fail', ('skipped, not listed in tests/kunit.toml: ' +
                        ', '.join(extra))
    if ran:
        return 'fail', ('listed as skipping in tests/kunit.toml, ran: ' +
                        ', '.join(ran))
    if s['skipped']:
        return 'pass', 'ok; skipped as listed: ' + ', '.join(s['skipped'])
    return 'pass', 'ok'


def kunit_arch_checks(kunit, base, arch, spec):
    """The checks of one KUnit boot: one per suite the plan lists."""
    res = []
    if not spec['suites']:
        return [(f'{kunit}.{arch}', 'skip',
                 'no KUnit suite is built into this kernel yet')]
    sc = scn.kunit_scenario(arch, spec['machine'], 600, 'tests/kunit.toml')
    r = boot.boot(sc, quiet=True,
                  extra_cmdline=bases.BASES[base].kunit_cmdline,
                  base=base)
    with open(os.path.join(ROOT, r['run_dir'], 'console.log'),
              errors='replace') as f:
        console = f.read()
    ktap_plan, suites = ktap.parse(console)
    bad, _ = judges.log_findings(console, sc)
    for name in spec['suites']:
        s = suites.get(name)
        if s is None:
            st, det = 'fail', (f'suite missing from KTAP (plan '
                               f'{ktap_plan}, saw {len(suites)} '
                               f'results)')
        else:
            st, det = judge_suite(s, spec['skips'].get(name, []))
        if bad and st == 'pass':
            st, det = 'fail', 'log: ' + bad[0]
        res.append((f'{kunit}.{arch}.{name}', st, det))
    if ktap_plan is not None and len(suites) < ktap_plan:
        res.append((f'{kunit}.{arch}.plan', 'fail',
                    f'KTAP plan {ktap_plan}, only {len(suites)} '
                    f'results'))
    return res


def load_scenarios(package=False):
    """Every scenario file: (the loaded ones, a failed check for each file
    the loader rejects, reported once whatever the bases).  package: only
    those that boot make deb's kernel (package = true); else only the
    others."""
    loaded, errors = [], []
    for path in scn.all_scenarios(ROOT):
        try:
            sc = scn.load(path)
        except scn.ScenarioError as e:
            errors.append((os.path.basename(path), 'fail', str(e)))
            continue
        if bool(sc.get('package')) == package:
            loaded.append(sc)
    return loaded, errors


def scenario_checks(scs, base, every, only=None):
    """Each scenario that boots on base (scn.boot_bases), booted with its
    kernel under each QEMU it lists.  only: a scenario's name (every QEMU
    it lists) or one variant's (NAME@qemuQ)."""
    res = []
    for sc in scs:
        if base not in scn.boot_bases(sc, every):
            continue
        for q in scn.qemu_versions(sc):
            var = scn.for_qemu(sc, q)
            if only and only not in (sc['name'], var['name']):
                continue
            res.append(scenario_check(var, base, every, only))
    return res


def scenario_check(sc, base, every, only):
    """The check of one boot of a scenario (one base, one QEMU)."""
    kind = 'package' if sc.get('package') else 'scenario'
    name = f'{named(kind, base)}.{sc["name"]}'
    if 'pending' in sc and not every and not only:
        # Expectations for work still to come, whose failure today is
        # not the same from boot to boot: a skip, never a pass.
        return (name, 'skip', f'pending: {sc["pending"]}')
    try:
        return judged(name, sc, boot.boot(sc, quiet=False, base=base))
    except Exception as e:         # pylint: disable=broad-except
        return harness_error(name, e)


def judged(name, sc, r):
    """The row of a boot's result."""
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
    if r['outcome'] != 'pass' and r.get('seed'):
        det += f'; disks from seed {r["seed"]}'
    st = {'pass': 'pass', 'fail': 'fail', 'xfail': 'xfail',
          'xpass': 'fail'}[r['outcome']]
    return (name, st, det)


def gate_checks(base, every, selftests):
    """Every gate on mainline; on a backport, those of make check (all of
    them with every)."""
    names = gates.GATES if every or base == bases.DEFAULT else \
        gates.BACKPORT_GATES
    try:
        return gates.run_all(base, names, selftests)
    except Exception as e:         # pylint: disable=broad-except
        return [harness_error(named('gate', base), e)]


def outgoing_checks():
    """make outgoing's rewriting, run with a test sender into a folder of
    its own: the mail applies to the base and carries only the sender."""
    try:
        import outgoing
        return outgoing.prepare(bases.DEFAULT, outgoing.TEST_SENDER,
                                os.path.join(ROOT, 'build', 'outgoing-check',
                                             bases.DEFAULT),
                                with_checkpatch=False)
    except Exception as e:         # pylint: disable=broad-except
        return [harness_error('outgoing', e)]


def host_kselftest_check():
    """The series' kselftest on this machine's own kernel, built and
    installed through the kselftest framework (lib.mk, make install as
    kselftest_install does) and run by the installed run_kselftest.sh: it
    checks invariants that hold on any kernel, so here, without an IOMMU
    and without the series, it must pass or skip, never fail."""
    name = 'kselftest.host'
    out = os.path.join(ROOT, 'build', 'kselftest-host')
    inst = os.path.join(out, 'install')
    try:
        subprocess.run(
            ['make', '-s', '-C', os.path.join(ROOT, bases.BASES[bases.DEFAULT].tree, 'tools',
                                              'testing', 'selftests'),
             'TARGETS=iommu_groups', f'O={out}', f'INSTALL_PATH={inst}',
             'install'], check=True, capture_output=True, text=True,
            timeout=300)
        run = subprocess.run([os.path.join(inst, 'run_kselftest.sh'),
                              '-c', 'iommu_groups'],
                             cwd=inst, capture_output=True, text=True,
                             timeout=120)
    except subprocess.CalledProcessError as e:
        return [(name, 'fail', f'make install failed: '
                 f'{(e.stderr or e.stdout).strip()[-300:]}')]
    except Exception as e:         # pylint: disable=broad-except
        return [harness_error(name, e)]
    verdict = [ln for ln in run.stdout.splitlines()
               if re.match(r'(not )?ok \d+ selftests: iommu_groups: '
                           r'iommu_groups\b', ln)]
    if len(verdict) != 1 or verdict[0].startswith('not ok'):
        return [(name, 'fail', (verdict or ['no verdict'])[0] +
                 f' (rc={run.returncode})')]
    inner = [ln.strip('# ') for ln in run.stdout.splitlines()
             if ln.startswith('# ok ') or ln.startswith('# not ok ')]
    return [(name, 'pass', f'{verdict[0]}; ' + '; '.join(inner))]


def kernel_targets(scs, every, chosen):
    """The make targets of the kernels a run boots: each base's KUnit
    arches and the arches of the scenarios booted on it."""
    need = set()
    for base in chosen:
        need.update((base, a) for a in kunit_arches(base, every))
        need.update((base, sc['arch']) for sc in scs
                    if base in scn.boot_bases(sc, every))
    return [f'kernel-{a}' if b == bases.DEFAULT else f'kernel-{b}-{a}'
            for b in chosen for a in ARCHES if (b, a) in need]


def selftest_checks():
    try:
        import selftest
        failures = selftest.run()
    except Exception as e:         # pylint: disable=broad-except
        return [harness_error('harness.selftest', e)]
    return [('harness.selftest', 'fail' if failures else 'pass',
             '; '.join(failures) or f'{selftest.COUNT} cases')]


def main():
    supervise.install_signal_handlers()
    ap = argparse.ArgumentParser()
    ap.add_argument('--all', action='store_true',
                    help='make check-all: everything on every base')
    ap.add_argument('--package', action='store_true',
                    help='make check-deb: the scenarios of make deb\'s '
                    'packaged kernel only')
    ap.add_argument('--only', choices=('gates', 'kunit', 'scenarios',
                                       'selftest'))
    ap.add_argument('--base', choices=bases.BASES,
                    help='only the checks of this base')
    ap.add_argument('--scenario')
    ap.add_argument('--arch-of')
    ap.add_argument('--kernels', action='store_true',
                    help='print the make targets of the kernels to boot')
    a = ap.parse_args()
    if a.arch_of:
        name = a.arch_of
        path = name if os.path.exists(name) else os.path.join(
            ROOT, 'scenarios', name + '.toml')
        print(scn.load(path)['arch'])
        return 0
    chosen = [b for b in bases.BASES if a.base in (None, b)]
    if a.package:
        # Its kernel is make deb's, not one of kernel_targets(); it boots
        # on Debian's base only, every scenario of its own.
        if a.all or a.only not in (None, 'scenarios'):
            ap.error('--package runs scenarios only')
        if a.base not in (None, bases.DEB_KERNEL['base']):
            ap.error(f'--package boots on {bases.DEB_KERNEL["base"]} only')
        chosen = [bases.DEB_KERNEL['base']]
        a.all, a.only = True, 'scenarios'
    scs, load_errors = load_scenarios(a.package)
    if a.kernels and a.package:
        # make deb builds its kernel: no test kernel to name.
        return 0
    if a.kernels:
        print(' '.join(kernel_targets(scs, a.all, chosen)))
        return 0
    t0 = time.monotonic()
    results = []
    if a.only in (None, 'selftest'):
        results += selftest_checks()
        results += host_kselftest_check()
    if a.only in (None, 'gates'):
        for base in chosen:
            where = gates.where(base)
            print(f'>> static gates over {where.rel(where.patches)}/ '
                  f'({base})', flush=True)
            results += gate_checks(base, a.all, base == chosen[0])
            if base == bases.DEFAULT:
                results += outgoing_checks()
    if a.only in (None, 'kunit'):
        for base in chosen:
            print(f'>> KUnit boots ({base})', flush=True)
            results += kunit_checks(base, a.all)
    if a.only in (None, 'scenarios'):
        results += load_errors
        for base in chosen:
            print(f'>> scenarios ({base})', flush=True)
            results += scenario_checks(scs, base, a.all, a.scenario)
    if not results:
        results.append(('check', 'fail', 'nothing was checked'))
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
