"""Static gates over the series.

All of them work in build/verify, a worktree of the kernel tree made by a
fresh 'git am' of patches/, so they judge what is committed in this repo,
not whatever the contributor's tree holds:

  series-drift   an export of the fresh application equals patches/
  checkpatch     --strict on every patch: 0 errors, 0 warnings
  sparse         C=2 on every touched kernel .c file: no warning base lacks
                 (tools/ programs are built with -Wall -Werror instead)
  coccicheck     MODE=report on every touched .c file: no new report
  kernel-doc     -none on every touched .c/.h file: no new warning
  bisect         the series' check-bisect record matches the series

Each gate returns (status, detail) with status 'pass', 'fail' or 'skip'.
A gate with nothing to look at (an empty series) is a skip, never a pass;
the gate self-tests show that each tool does report a known-bad input.
"""
import collections
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, 'build')
TREE = os.path.join(BUILD, 'linux')
VERIFY = os.path.join(BUILD, 'verify')
PATCHES = os.path.join(ROOT, 'patches')
# Debian's tools first: checkpatch runs scripts/spdxcheck.py with the
# python3 on PATH, and its modules come from Debian's packages (make deps).
GENV = dict(os.environ, PATH='/usr/bin:/bin:' + os.environ.get('PATH', ''),
            GIT_CONFIG_NOSYSTEM='1', HOME='/nonexistent',
            GIT_COMMITTER_NAME='vbypass harness',
            GIT_COMMITTER_EMAIL='harness@vbypass.invalid',
            GIT_COMMITTER_DATE='2025-01-01T00:00:00Z', LC_ALL='C')


def sh(cmd, cwd=None, check=True, env=None, **kw):
    return subprocess.run(cmd, cwd=cwd, check=check, text=True,
                          capture_output=True, env=env or GENV, **kw)


def git(*args, cwd=VERIFY, check=True):
    return sh(['git', '-c', 'core.abbrev=12', *args], cwd=cwd,
              check=check).stdout


def series():
    path = os.path.join(PATCHES, 'series')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        names = [ln.strip() for ln in f
                 if ln.strip() and not ln.startswith('#')]
    return [os.path.join(PATCHES, n) for n in names]


def make_verify_tree():
    """build/verify = base + git am of patches/series.  Returns an error
    string or None."""
    if os.path.isdir(VERIFY):
        sh(['git', 'worktree', 'remove', '--force', VERIFY], cwd=TREE,
           check=False)
        shutil.rmtree(VERIFY, ignore_errors=True)
    sh(['git', 'worktree', 'prune'], cwd=TREE)
    sh(['git', 'worktree', 'add', '-q', '--detach', VERIFY, 'base'],
       cwd=TREE)
    for p in series():
        if not os.path.exists(p):
            return f'patches/series names a missing file {os.path.basename(p)}'
        r = sh(['git', 'am', '-q', '--committer-date-is-author-date', p],
               cwd=VERIFY, check=False)
        if r.returncode:
            sh(['git', 'am', '--abort'], cwd=VERIFY, check=False)
            return f'{os.path.basename(p)} does not apply: {r.stderr.strip()}'
    return None


def touched(pattern):
    out = git('diff', '--name-only', '--diff-filter=AM', 'base..HEAD')
    return [f for f in out.split() if re.search(pattern, f)]


def gate_drift(apply_error):
    if apply_error:
        return 'fail', apply_error
    with tempfile.TemporaryDirectory() as tmp:
        sh([os.path.join(ROOT, 'harness', 'export.sh'), VERIFY, tmp])
        r = sh(['diff', '-ru', tmp, PATCHES], check=False)
    if r.returncode:
        lines = r.stdout.splitlines()
        return 'fail', ('patches/ differs from an export of its own '
                        'application (stale or hand-edited; run make '
                        'export):\n' + '\n'.join(lines[:20]))
    return 'pass', f'{len(series())} patch(es) round-trip byte for byte'


def checkpatch(path):
    r = sh(['perl', 'scripts/checkpatch.pl', '--strict', '--no-summary',
            '--terse', '--show-types', path], cwd=VERIFY, check=False)
    counts = collections.Counter()
    lines = []
    for ln in r.stdout.splitlines():
        m = re.search(r': (ERROR|WARNING|CHECK):', ln)
        if m:
            counts[m.group(1)] += 1
            lines.append(ln)
    return counts, lines


def gate_checkpatch():
    pats = series()
    if not pats:
        return 'skip', 'series is empty'
    bad, checks, total = [], [], collections.Counter()
    for p in pats:
        counts, lines = checkpatch(p)
        total.update(counts)
        bad += [ln for ln in lines if ': CHECK:' not in ln]
        checks += [ln for ln in lines if ': CHECK:' in ln]
    detail = (f'{len(pats)} patch(es): {total["ERROR"]} errors, '
              f'{total["WARNING"]} warnings, {total["CHECK"]} checks')
    if checks:
        detail += '\nCHECK lines:\n' + '\n'.join(checks)
    if bad:
        return 'fail', detail + '\n' + '\n'.join(bad)
    return 'pass', detail


def _norm(lines):
    """Warnings without line and column numbers, as a multiset."""
    return collections.Counter(re.sub(r':\d+(:\d+(-\d+)?)?:', ':', ln)
                               for ln in lines)


def _obj_arch(cfile):
    """An arch whose test kernel builds this file, or None."""
    for arch in ('x86_64', 'arm64'):
        obj = os.path.join(BUILD, f'obj-{arch}', cfile[:-2] + '.o')
        if os.path.exists(obj):
            return arch
    return None


def includer(cfile):
    """The .c file of the same directory that #includes this one (a KUnit
    test built inside the file whose static helpers it tests), or None."""
    d, name = os.path.split(cfile)
    pat = re.compile(r'^#include "%s"' % re.escape(name), re.M)
    for other in sorted(os.listdir(os.path.join(VERIFY, d) or VERIFY)):
        path = os.path.join(VERIFY, d, other)
        if other.endswith('.c') and other != name and \
                pat.search(open(path, errors='replace').read()):
            return os.path.join(d, other)
    return None


def _kmake(arch, *targets, silent=True):
    obj = os.path.join(BUILD, f'obj-gate-{arch}')
    os.makedirs(obj, exist_ok=True)
    shutil.copy(os.path.join(BUILD, f'obj-{arch}', '.config'),
                os.path.join(obj, '.config'))
    cross = 'aarch64-linux-gnu-' if arch == 'arm64' else ''
    env = dict(os.environ, CCACHE_DIR=os.environ.get(
        'CCACHE_DIR', '/var/cache/vbypass/ccache'), CCACHE_BASEDIR=ROOT,
        CCACHE_NOHASHDIR='1', CCACHE_IGNOREOPTIONS='-fmacro-prefix-map=*')
    base = ['make', f'O={obj}', f'ARCH={arch}',
            f'CROSS_COMPILE={cross}', f'CC=ccache {cross}gcc',
            f'-j{os.cpu_count()}']
    sh(base + ['-s', 'olddefconfig'], cwd=VERIFY, env=env)
    # coccicheck prints nothing at all under make -s.
    return sh(base + (['-s'] if silent else []) + list(targets), cwd=VERIFY,
              env=env, check=False)


def _per_file(files, run, arch_of):
    """Reports the head has and the base lacks, per file: run(arch, file)
    gives a file's report lines at each revision; arch_of(file) says which
    test kernel builds it (None: none does)."""
    head = git('rev-parse', 'HEAD').strip()
    new = {}
    plan = [(f, arch_of(f)) for f in files]
    missing = [f for f, a in plan if a is None]
    reports = {}
    for rev in ('base', head):
        git('checkout', '-q', rev)
        for f, arch in plan:
            if arch and os.path.exists(os.path.join(VERIFY, f)):
                reports[(rev, f)] = run(arch, f)
            else:
                reports[(rev, f)] = []
    git('checkout', '-q', head)
    for f, _ in plan:
        extra = compare(reports[('base', f)], reports[(head, f)])
        if extra:
            new[f] = extra
    return new, missing


TOOLS = ('build', 'coccicheck')
TOOL_FAILED = re.compile(r'^(%s) failed: ' % '|'.join(TOOLS))


def tool_failed(tool, out):
    """The last lines of a tool run that failed, marked so that compare()
    counts them whatever the other revision gave."""
    assert tool in TOOLS
    return [f'{tool} failed: {ln}' for ln in out[-5:]]


def compare(base, head):
    """The lines of a file's report at head that its report at base lacks.
    A tool that did not run is a failure at either revision, even when it
    failed the same way at both: two failed runs compared would pass a file
    that nothing examined."""
    broken = [ln for ln in head if TOOL_FAILED.match(ln)]
    broken += ['at base: ' + ln for ln in base if TOOL_FAILED.match(ln)]
    extra = _norm(ln for ln in head if not TOOL_FAILED.match(ln)) - \
        _norm(ln for ln in base if not TOOL_FAILED.match(ln))
    return broken + sorted(extra.elements())


def _gate_tool(name, files, run, arch_of=_obj_arch):
    if not files:
        return 'skip', 'series touches no such file'
    new, missing = _per_file(files, run, arch_of)
    detail = f'{len(files)} file(s): {", ".join(files)}'
    if missing:
        return 'fail', (detail + '\nnot built by any test config (add it '
                        'to a fragment): ' + ', '.join(missing))
    if new:
        return 'fail', detail + '\nnew reports:\n' + '\n'.join(
            f'{f}: {ln}' for f, lns in new.items() for ln in lns)
    return 'pass', detail + f': no {name} report the base lacks'


def _check_file(arch, f, *check, silent=True):
    """Compile one file with a checker (C=1 after removing its object, so
    exactly this file is checked).  A failed build is itself a report: a
    gate must not pass because nothing ran."""
    obj = os.path.join(BUILD, f'obj-gate-{arch}', f[:-2] + '.o')
    if os.path.exists(obj):
        os.unlink(obj)
    r = _kmake(arch, 'C=1', *check, f[:-2] + '.o', silent=silent)
    out = (r.stdout + r.stderr).splitlines()
    if r.returncode:
        return out, tool_failed('build', out)
    return out, []


def _sparse(arch, f):
    out, failed = _check_file(arch, f)
    return failed + [ln for ln in out
                     if re.search(r': (warning|error):', ln)]


def _cocci(arch, f):
    if arch in ('tools', 'included'):
        # No object of their own: check the directory of a user-space
        # program, and an included file on its own.
        where = os.path.dirname(f) if arch == 'tools' else f
        r = sh(['make', 'coccicheck', 'MODE=report', f'M={where}'],
               cwd=VERIFY, check=False)
        out = (r.stdout + r.stderr).splitlines()
        failed = tool_failed('coccicheck', out) if r.returncode else []
        return failed + [ln for ln in out if ln.startswith(f + ':')]
    out, failed = _check_file(arch, f, f'CHECK={VERIFY}/scripts/coccicheck',
                              'MODE=report', silent=False)
    # Coccinelle's reports; compiler diagnostics belong to the sparse gate.
    return failed + [ln for ln in out if re.match(r'^\S+\.[ch]:\d+', ln)
                     and not re.search(r': (warning|error|note):', ln)]


def _kdoc(arch, f):
    r = sh(['perl', 'scripts/kernel-doc', '-none', f], cwd=VERIFY,
           check=False)
    return [ln for ln in r.stderr.splitlines() if ln.strip()]


def _kernel_c(f):
    """sparse checks kernel objects; the user-space programs of tools/ are
    built by the harness with -Wall -Werror instead."""
    return not f.startswith('tools/')


def gate_sparse():
    """An included file is checked in the build of its includer, which
    reports the lines of both."""
    files = []
    for f in touched(r'\.c$'):
        f = includer(f) or f
        if _kernel_c(f) and f not in files:
            files.append(f)
    return _gate_tool('sparse', files, _sparse)


def _cocci_arch(f):
    if not _kernel_c(f):
        return 'tools'
    return 'included' if includer(f) else _obj_arch(f)


def gate_coccicheck():
    return _gate_tool('coccicheck', touched(r'\.c$'), _cocci,
                      arch_of=_cocci_arch)


def gate_kerneldoc():
    # kernel-doc reads sources and needs no build: any file qualifies.
    return _gate_tool('kernel-doc', touched(r'\.[ch]$'), _kdoc,
                      arch_of=lambda f: 'source')


def series_digest():
    h = hashlib.sha256()
    for p in series():
        with open(p, 'rb') as f:
            h.update(f.read())
    return h.hexdigest()


def gate_bisect():
    if not series():
        return 'skip', 'series is empty'
    rec = os.path.join(ROOT, 'series', 'bisect-verified')
    try:
        with open(rec) as f:
            lines = f.read().split('\n')
    except OSError:
        return 'fail', 'no series/bisect-verified: run make check-bisect'
    if lines[0].split()[-1] != series_digest():
        return 'fail', ('series/bisect-verified is for another series: '
                        'run make check-bisect')
    return 'pass', 'make check-bisect built every patch of this series'


# Self-tests: each tool must flag a known-bad input, so a gate that passes
# is known to be able to fail.
BAD_PATCH = '''From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: A U Thor <author@example.invalid>
Subject: [PATCH] iommu: add thing

---
 drivers/iommu/iommu.c | 1 +
 1 file changed, 1 insertion(+)

diff --git a/drivers/iommu/iommu.c b/drivers/iommu/iommu.c
--- a/drivers/iommu/iommu.c
+++ b/drivers/iommu/iommu.c
@@ -1,3 +1,4 @@
 // SPDX-License-Identifier: GPL-2.0-only
 /*
+int  bad_thing (void) { return 0 ;}  
  * Copyright (C) 2007-2008 Advanced Micro Devices, Inc.
'''

BAD_C = '''static int *p;
void f(void);
void f(void) { p = 0; }
'''

BAD_KDOC = '''/**
 * f() - frob
 * @a: the first
 */
int f(int a, int b);
'''


def gate_selftests():
    res = []
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, 'bad.patch')
        with open(p, 'w') as f:
            f.write(BAD_PATCH)
        counts, _ = checkpatch(p)
        res.append(('selftest.checkpatch',
                    'pass' if counts['ERROR'] else 'fail',
                    f'known-bad patch: {dict(counts)}'))
        c = os.path.join(tmp, 'bad.c')
        with open(c, 'w') as f:
            f.write(BAD_C)
        r = sh(['sparse', c], check=False)
        ok = 'Using plain integer as NULL pointer' in r.stderr
        res.append(('selftest.sparse', 'pass' if ok else 'fail',
                    'known-bad file: ' + (r.stderr.strip() or 'no report')))
        k = os.path.join(tmp, 'bad.h')
        with open(k, 'w') as f:
            f.write(BAD_KDOC)
        lines = _kdoc(None, k)
        res.append(('selftest.kernel-doc', 'pass' if lines else 'fail',
                    'known-bad comment: ' + ('; '.join(lines) or 'none')))
        cocci = os.path.join(VERIFY, 'scripts', 'coccinelle', 'null',
                             'badzero.cocci')
        bz = os.path.join(tmp, 'bz.c')
        with open(bz, 'w') as f:
            f.write('int f(int *p);\nint f(int *p) { if (p == 0) '
                    'return 1; return 0; }\n')
        r = sh(['spatch', '-D', 'report', '--very-quiet', '--no-show-diff',
                '--cocci-file', cocci, bz], check=False)
        ok = 'WARNING' in r.stdout
        res.append(('selftest.coccinelle', 'pass' if ok else 'fail',
                    'known-bad file: ' + (r.stdout.strip() or r.stderr.strip()
                                          or 'no report')[:200]))
    return res


def run_all():
    """[(name, status, detail)] for every gate, in order."""
    err = make_verify_tree()
    res = [('series-drift',) + gate_drift(err)]
    if err:
        return res + [(n, 'fail', 'series does not apply') for n in
                      ('checkpatch', 'sparse', 'coccicheck', 'kernel-doc',
                       'bisect')]
    res.append(('checkpatch',) + gate_checkpatch())
    res.append(('sparse',) + gate_sparse())
    res.append(('coccicheck',) + gate_coccicheck())
    res.append(('kernel-doc',) + gate_kerneldoc())
    res.append(('bisect',) + gate_bisect())
    res += gate_selftests()
    return res
