"""Read KUnit results (KTAP) out of a kernel console log, or a
kselftest's TAP output.

Only what make check needs: each top-level result (one per suite, or per
test of a kselftest) with its failing subtests, and whether the top-level
plan was completed.
"""
import re

TS = re.compile(r'^\[\s*\d+\.\d+\]\s?')
RESULT = re.compile(r'^(not )?ok (\d+) (.*?)(?:\s+#\s*(SKIP|TODO)\b(.*))?$')


def parse(console):
    """Returns (plan or None, {suite: {'ok', 'skip', 'failed': [...]}})."""
    plan = None
    suites = {}
    failed_sub = []
    started = False
    for raw in console.splitlines():
        line = TS.sub('', raw.replace('\r', ''))
        if line.startswith(('KTAP version', 'TAP version')):
            started = True
            continue
        if not started:
            continue
        m = re.match(r'^1\.\.(\d+)$', line)
        if m and plan is None:
            plan = int(m.group(1))
            continue
        sub = re.match(r'^(\s+)not ok \d+ (.*?)(\s+#.*)?$', line)
        if sub:
            failed_sub.append(sub.group(2))
            continue
        m = RESULT.match(line)
        if m:
            name = m.group(3).strip()
            suites[name] = {'ok': m.group(1) is None,
                            'skip': m.group(4) == 'SKIP',
                            'failed': failed_sub}
            failed_sub = []
    return plan, suites
