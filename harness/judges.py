"""Judge: a boot's records, console and disk images against the
scenario's expectations, as named checks."""
import os
import re

import dmadata
import ktap
import recipe
import records
import scenario as scn


def log_findings(console, sc):
    """Forbidden console lines not covered by an allow rule with a reason."""
    rules = sc.get('log', {})
    allow = [re.compile(r['match']) for r in rules.get('allow', [])]
    bad = []
    for line in console.splitlines():
        if any(re.search(p, line) for p in scn.FORBIDDEN):
            if not any(a.search(line) for a in allow):
                bad.append(line.strip())
    missing = [r for r in rules.get('require', [])
               if not re.search(r, console, re.M)]
    return bad, missing


def log_counts(console, sc):
    """Scenario rules on how often a line may appear: 'once' patterns
    must match exactly one console line, 'forbid' patterns none.  Returns
    the rules broken, each with the number of lines it matched."""
    rules = sc.get('log', {})
    lines = console.splitlines()

    def count(pattern):
        return sum(1 for line in lines if re.search(pattern, line))
    broken = [f'{r} x{n}' for r in rules.get('once', [])
              if (n := count(r)) != 1]
    broken += [f'{r} x{n}' for r in rules.get('forbid', [])
               if (n := count(r)) != 0]
    return broken


class Judge:
    """Collects named checks: (name, expected, got, ok)."""

    def __init__(self):
        self.checks = []

    def add(self, name, want, got):
        ok = want == got
        self.checks.append({'name': name, 'want': want, 'got': got,
                            'ok': ok})
        return ok

    def within(self, name, low, high, got):
        """A count that must lie from low to high (shown as "low..high")."""
        ok = isinstance(got, int) and low <= got <= high
        self.checks.append({'name': name, 'want': f'{low}..{high}',
                            'got': got, 'ok': ok})
        return ok


def step_number(sc, step, after=0):
    """The number of the first step that reads step (word for word) and
    comes after step number after; None when there is none."""
    return next((n for n, s in enumerate(scn.steps(sc), 1)
                 if n > after and s.split() == step.split()), None)


def find_dev(recs, step, serial, bdf):
    """The VB dev record of step: by disk serial, or by BDF when the guest
    could not read the serial (no virtio-blk driver, or a device that
    never answers).  None when absent."""
    devs = [r for r in recs if r['kind'] == 'dev' and
            r.get('step') == str(step)]
    return (next((d for d in devs if serial and d.get('serial') == serial),
                 None) or
            next((d for d in devs if bdf and d.get('bdf') == bdf), None))


def find_dma(recs, serial, step=None):
    """The first VB dma record of a disk (of that step, if given)."""
    return next((r for r in recs if r['kind'] == 'dma' and
                 r.get('serial') == serial and
                 (step is None or r.get('step') == str(step))), None)


def plug_result(recs, hid, host):
    """'ready' when the host's device_add went through and the guest saw
    the disk come up; else where it stopped."""
    if host is None:
        return 'not-requested'
    if host != 'added':
        return host
    rec = next((r for r in recs if r['kind'] == 'hotplug' and
                r.get('id') == hid), None)
    return rec['state'] if rec else 'not-reported'


def kselftest_result(recs):
    """pass (exit 0), skip (exit 4), "fail: " and the names of the failing
    tests from its TAP output (exit 1, KSFT_FAIL), or how else it ended."""
    rec = next((r for r in recs if r['kind'] == 'kselftest'), None)
    if rec is None:
        return 'not-run'
    if rec['rc'] in ('0', '4'):
        return {'0': 'pass', '4': 'skip'}[rec['rc']]
    _, tests = ktap.parse('\n'.join(r['line'] for r in recs
                                    if r['kind'] == 'ktap'))
    failed = [name for name, t in tests.items() if not t['ok']]
    if rec['rc'] == '1' and failed:
        return 'fail: ' + ', '.join(failed)
    return f'fail(rc={rec["rc"]})' + (': ' + ', '.join(failed)
                                      if failed else '')


def judge(sc, recs, console, rc, images_meta, images, plugged):
    """Every check of a boot.  A [[device]]'s or [[disk]]'s expect is
    judged on the first report and the first DMA check of it (for a
    [[hotplug]], the first report after its step); a [[check]] on its
    own step, named ID.KEY@STEP."""
    j = Judge()
    j.add('boot.verdict', 'complete',
          'complete' if any(r['kind'] == 'end' for r in recs) else
          ('qemu-timeout' if rc is None else f'incomplete(rc={rc})'))
    # Every line on the channel is a well-formed record (or a wrapped line
    # of a program the guest ran).
    j.add('boot.records', [], records.bad_records(recs)[:5])
    serials = {d['id'] for d in scn.disks(sc)}
    bdfs = {t['id']: t.get('bdf') for t in sc.get('device', []) +
            scn.disks(sc)}

    def expect(ident, exp, step, suffix=''):
        dev = find_dev(recs, step, ident if ident in serials else None,
                       bdfs[ident])
        if 'group' in exp:
            got = 'absent' if dev is None else (
                'none' if dev['group'] == 'none' else dev['type'])
            j.add(f'{ident}.group{suffix}', exp['group'], got)
        for key in ('irq', 'driver', 'master', 'state'):
            if key in exp:
                j.add(f'{ident}.{key}{suffix}', exp[key],
                      'absent' if dev is None else
                      dev.get(key, 'not-reported'))

    def dma(ident, want, rec, suffix=''):
        j.add(f'{ident}.dma{suffix}', want,
              dma_result(rec, images_meta.get(ident), images[ident]))

    def irq_cpus(ident, exp, rec):
        """CPUs that got the disk's interrupts once its check is done:
        exactly irq_cpus, or 1 to irq_cpus_max (0: none by MSI/MSI-X)."""
        if 'irq_cpus' not in exp and 'irq_cpus_max' not in exp:
            return
        got = int(rec['irqcpus']) if rec else 'not-reported'
        if 'irq_cpus' in exp:
            j.add(f'{ident}.irq_cpus', exp['irq_cpus'], got)
        if 'irq_cpus_max' in exp:
            j.within(f'{ident}.irq_cpus_max', 1, exp['irq_cpus_max'], got)

    first_report = step_number(sc, 'report')
    for dev in sc.get('device', []):
        if 'expect' in dev:
            expect(dev['id'], dev['expect'], first_report)
    for disk in sc.get('disk', []):
        expect(disk['id'], disk['expect'], first_report)
        if disk['expect']['dma'] != 'skip':
            dma(disk['id'], disk['expect']['dma'], find_dma(recs, disk['id']))
        irq_cpus(disk['id'], disk['expect'], find_dma(recs, disk['id']))
    for hp in sc.get('hotplug', []):
        hid = hp['id']
        # A function expected to stay without a driver (one the kernel
        # refuses) comes up as far as no-driver.
        j.add(f'{hid}.hotplug',
              'no-driver' if hp['expect'].get('driver') == 'none' else 'ready',
              plug_result(recs, hid, plugged.get(hid)))
        step = step_number(sc, f'hotplug {scn.plugging_step_id(sc, hid)}')
        expect(hid, hp['expect'], step_number(sc, 'report', step))
        if hp['expect']['dma'] != 'skip':
            dma(hid, hp['expect']['dma'], find_dma(recs, hid))
        irq_cpus(hid, hp['expect'], find_dma(recs, hid))
    for chk in sc.get('check', []):
        n, ident = chk['step'], chk['id']
        if 'err' in chk:
            rec = next((r for r in recs if r['kind'] == 'step' and
                        r.get('step') == str(n)), None)
            j.add(f'{ident}.err@{n}', chk['err'],
                  rec.get('err', rec.get('rc')) if rec else 'not-reported')
        elif 'dma' in chk:
            dma(ident, chk['dma'], find_dma(recs, ident, n), f'@{n}')
        else:
            expect(ident, chk, n, f'@{n}')
    for n, step in enumerate(scn.steps(sc), 1):
        if step.split()[0] == 'stress':
            judge_stress(j, sc, recs, n, step.split()[1:])
        if step == recipe.STEP:
            judge_recipe(j, recs, n)
    if scn.KSELFTEST_STEP in scn.steps(sc):
        j.add('kselftest', scn.kselftest_expect(sc), kselftest_result(recs))
    bad, missing = log_findings(console, sc)
    j.add('log.forbidden', [], bad[:5])
    if sc.get('log', {}).get('require'):
        j.add('log.required', [], missing)
    if sc.get('log', {}).get('once') or sc.get('log', {}).get('forbid'):
        j.add('log.counted', [], log_counts(console, sc))
    return j.checks


# A group type switched fewer times than this during a stress step was not
# exercised under load.
MIN_FLIPS = 10


def judge_stress(j, sc, recs, n, args):
    """A stress step: every disk whose DMA check must pass (but the idle
    device) was loaded, with no mismatch and no I/O error; the idle
    device's group type was switched, each write read back."""
    flip = args[1] if len(args) > 1 else None
    got = {r['serial']: r for r in recs
           if r['kind'] == 'stress' and r.get('step') == str(n)}
    for disk in scn.disks(sc):
        if disk['expect']['dma'] != 'pass' or disk.get('bdf') == flip:
            continue
        r = got.get(disk['id'])
        if r is None:
            res = 'not-reported'
        elif r['mismatches'] != '0' or r['errors'] != '0':
            res = (f'mismatches={r["mismatches"]},errors={r["errors"]}:'
                   f'{r["detail"]}')
        else:
            res = 'clean' if int(r['ops']) > 0 else 'no-io'
        j.add(f'{disk["id"]}.stress@{n}', 'clean', res)
    if flip:
        r = next((r for r in recs if r['kind'] == 'flip' and
                  r.get('step') == str(n)), None)
        if r is None:
            res = 'not-reported'
        elif r['errors'] != '0':
            res = f'errors={r["errors"]}:{r["detail"]}'
        else:
            res = ('clean' if int(r['writes']) >= MIN_FLIPS else
                   f'writes={r["writes"]}')
        j.add(f'flip.{flip}@{n}', 'clean', res)
        # Writing "auto" afterwards gives back the type chosen at boot.
        idle = next((d for d in scn.disks(sc) if d.get('bdf') == flip), None)
        if idle and 'group' in idle['expect']:
            j.add(f'flip.{flip}.auto@{n}', idle['expect']['group'],
                  r['final'] if r else 'not-reported')
    r = next((r for r in recs if r['kind'] == 'step' and
              r.get('step') == str(n)), None)
    j.add(f'stress.rc@{n}', 'ok', r['rc'] if r else 'not-reported')


def judge_recipe(j, recs, n):
    """The admin guide's recipe, run as step n, lists every PCI device of
    the guest's last report before it, and no other, each with the same
    driver, group, group type and iommu_translation state ('-' where the
    report says none).  The request column is the recipe's own read of a
    file the report does not read; it is only required to be there."""
    rec = next((r for r in recs if r['kind'] == 'step' and
                r.get('step') == str(n)), None)
    rows = recipe.rows(rec.get('output', []) if rec else [])
    prev = max((int(r['step']) for r in recs if r['kind'] == 'dev' and
                int(r['step']) < n), default=None)
    devs = [r for r in recs if r['kind'] == 'dev' and int(r['step']) == prev]
    diffs = [f'{bdf}:extra' for bdf in rows
             if bdf not in {d['bdf'] for d in devs}]
    for dev in devs:
        row = rows.get(dev['bdf'])
        if row is None:
            diffs.append(f'{dev["bdf"]}:' + ('missing' if dev['bdf'] not in
                                              rows else 'malformed'))
            continue
        dash = {'none': '-'}
        want = {'DRIVER': dash.get(dev['driver'], dev['driver']),
                'GROUP': dash.get(dev['group'], dev['group']),
                'TYPE': dash.get(dev['type'], dev['type']),
                'TRANSLATION': dev['state']}
        if dev['group'] == 'none':
            want['TYPE'] = '-'
        diffs += [f'{dev["bdf"]}:{col}={row[col]}!={val}'
                  for col, val in want.items() if row[col] != val]
    if prev is None or not devs:
        diffs = ['no-report']
    j.add(f'recipe.rc@{n}', '0', rec['rc'] if rec else 'not-reported')
    j.add(f'recipe@{n}', [], diffs[:6])


def dma_result(rec, meta, image):
    """pass only when both directions matched end to end."""
    if rec is None:
        return 'not-reported'
    if rec['read'] == 'absent':
        return 'absent'
    if rec['read'] != 'pass' or rec['write'] != 'pass':
        return f'read={rec["read"]},write={rec["write"]}:{rec["detail"]}'
    size, _, seed = meta
    if not os.path.exists(image):
        return 'host-image-missing'
    off = dmadata.verify_image(image, seed, size)
    if off is not None:
        return f'host-verify-mismatch@{off}'
    return 'pass'


def outcome(sc, checks):
    """'pass', 'fail', 'xfail' or 'xpass' for the whole scenario."""
    failed = {c['name'] for c in checks if not c['ok']}
    xf = sc.get('xfail')
    if not xf:
        return 'pass' if not failed else 'fail'
    listed = set(xf['checks'])
    if failed - listed:
        return 'fail'          # failed in a way the xfail does not cover
    if failed == listed:
        return 'xfail'
    return 'xpass'             # some of the known failures are gone


# The first line of a kernel report that explains a boot which never
# reached its end: a hung task, a lockup, an oops or a panic.
REPORT_START = re.compile(r'INFO: task .* blocked for more than|'
                          r'watchdog: BUG:|BUG:|WARNING:|Oops:|'
                          r'Kernel panic')
# A task in D state as a panic's blocked-task list (or sysrq-w) shows it.
BLOCKED_TASK = re.compile(r'\btask:\S+\s+state:D\b')
UNRELIABLE_FRAME = re.compile(r'\]\s+\? ')
# unknown_nmi_panic's words, when the NMI is supervise.inject_nmi()'s, and
# the line the kernel prints just before them.
OWN_NMI = 'Kernel panic - not syncing: NMI: Not continuing'
NMI_RECEIVED = re.compile(r'NMI received for unknown reason')
# The header of a CPU's stack: the panic's own, then each of the panic's
# all-CPU backtrace (panic_sys_info=all_bt, panic_print=0x40).
# Anchored after the timestamp: 6.12's WARN line is "WARNING: CPU: 1 PID:".
CPU_BACKTRACE = re.compile(r'\]\s+CPU: (\d+) .*\bPID: \d+')
# What ends such a stack: the next one, or what the panic prints after.
STACK_END = re.compile(r'\]\s+CPU: \d+ .*\bPID: \d+|INFO:|WARNING:|BUG:|'
                       r'Sending NMI|Shutting down|Kernel Offset|end Kernel')
# A register dump's lines between a stack's header and its frames.
REGISTERS = re.compile(r'\]\s+(Hardware name|(?!RIP)R[A-Z0-9]{2}|FS|CS|CR2|'
                       r'DR[0-7]|Code):|NMI backtrace for cpu')


def reliable_stack(lines, limit):
    """The first limit lines of a stack, without its unreliable "? "
    frames, its register dump or the frames of the NMI handler that
    printed it (between <NMI> and </NMI>, where the interrupted RIP is
    the line kept)."""
    kept, in_nmi = [], False
    for line in lines:
        if line.endswith('<NMI>') or line.endswith('</NMI>'):
            in_nmi = line.endswith('<NMI>')
        elif 'RIP: ' in line or not (in_nmi or UNRELIABLE_FRAME.search(line)
                                     or REGISTERS.search(line)):
            kept.append(line)
    return kept[:limit]


def own_nmi_excerpt(lines, panic, tail_lines, task_lines):
    """The harness's NMI ended a guest that was still running at the
    timeout.  What the boot printed last says where it stopped (the
    timestamps of a guest whose timer stopped stay where it did); then
    the panic; then where the boot stood: each CPU's first backtrace (a
    task that spins never shows as blocked), then the first blocked
    task's stack (often a victim: a task waiting for the CPU that spins).
    """
    first = panic
    while first > 0 and NMI_RECEIVED.search(lines[first - 1]):
        first -= 1
    shown = lines[max(0, first - tail_lines):first] + [lines[panic]]
    seen = set()
    for i in range(panic + 1, len(lines)):
        cpu = CPU_BACKTRACE.search(lines[i])
        if not cpu or cpu.group(1) in seen:
            continue
        seen.add(cpu.group(1))
        end = next((j for j in range(i + 1, len(lines))
                    if STACK_END.search(lines[j])), len(lines))
        shown += ['...'] + reliable_stack(lines[i:end], task_lines)
    task = next((i for i in range(panic, len(lines))
                 if BLOCKED_TASK.search(lines[i])), None)
    if task is not None:
        shown += ['...'] + reliable_stack(lines[task:], task_lines)
    return shown


def console_excerpt(console, report_lines=30, tail_lines=10,
                    task_lines=30):
    """What to show of the console of a boot that did not complete: the
    first kernel report and what follows it, else the last lines; then
    the first blocked task's stack from a panic report, its unreliable
    "? " frames left out.  A boot the harness's own NMI ended gets
    own_nmi_excerpt(), after the first lines of any report before it.
    The run directory may be gone by the time anyone reads the output (CI
    works on a scratch clone), so this goes to the report itself."""
    lines = console.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if REPORT_START.search(line)), None)
    nmi = next((i for i, line in enumerate(lines) if OWN_NMI in line), None)
    if nmi is not None:
        # A report before the NMI (a warning the boot went on after)
        # comes first, cut short; the NMI's excerpt says where it hung.
        tail = max(0, nmi - tail_lines)
        earlier = ([] if start is None or start >= tail else
                   lines[start:min(start + tail_lines, tail)] + ['...'])
        return earlier + own_nmi_excerpt(lines, nmi, tail_lines, task_lines)
    shown = (lines[start:start + report_lines] if start is not None
             else lines[-tail_lines:])
    task = next((i for i, line in enumerate(lines)
                 if BLOCKED_TASK.search(line)), None)
    if task is not None and lines[task] not in shown:
        shown += ['...'] + reliable_stack(lines[task:], task_lines)
    return shown
