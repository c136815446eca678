"""Static gates over the series of a base.

All of them work in the base's verify worktree (build/verify for mainline,
build/verify-deb12 for the backport: harness/bases.py), a worktree of the
base's kernel tree made by a fresh 'git am' of its series (patches/,
backport/deb12/), so they judge what is committed in this repo, not
whatever the contributor's tree holds:

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
Every function takes the base's paths (where()) first, so the two series
never share a worktree, an object directory or a record.
"""
import collections
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import bases
import buildenv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every gate, in the order make check runs them; a backport's make check
# runs only BACKPORT_GATES (make check-all runs them all).
GATES = ('series-drift', 'checkpatch', 'sparse', 'coccicheck', 'kernel-doc',
         'bisect')
BACKPORT_GATES = ('series-drift', 'bisect')
# Debian's tools first: checkpatch runs scripts/spdxcheck.py with the
# python3 on PATH, and its modules come from Debian's packages (make deps).
GENV = dict(os.environ, PATH='/usr/bin:/bin:' + os.environ.get('PATH', ''),
            GIT_CONFIG_NOSYSTEM='1', HOME='/nonexistent', LC_ALL='C',
            **buildenv.GIT_COMMITTER)


@dataclass(frozen=True)
class Where:
    """The paths of one base's gates, absolute, all from harness/bases.py."""
    base: str
    tree: str           # the base's kernel work tree
    verify: str         # the gates' worktree of it
    patches: str        # the series folder
    record: str         # make check-bisect's record

    def obj(self, what):
        """The base's object directory for what (an arch, gate-ARCH)."""
        return os.path.join(ROOT, bases.obj_dir(self.base, what))

    def name(self, gate):
        """A gate's check name: as it always was on mainline,
        gate.BASE.GATE on a backport."""
        return gate if self.base == bases.DEFAULT else \
            f'gate.{self.base}.{gate}'

    def rel(self, path):
        return os.path.relpath(path, ROOT)

    def bisect_cmd(self):
        return 'make check-bisect' + (
            '' if self.base == bases.DEFAULT else f' BASE={self.base}')


def where(base=bases.DEFAULT):
    b = bases.BASES[base]
    return Where(base, *(os.path.join(ROOT, p) for p in
                         (b.tree, b.verify, b.patches, b.record)))


def sh(cmd, cwd=None, check=True, env=None, **kw):
    return subprocess.run(cmd, cwd=cwd, check=check, text=True,
                          capture_output=True, env=env or GENV, **kw)


def git(w, *args, check=True):
    """git in the base's verify worktree."""
    return sh(['git', '-c', 'core.abbrev=12', *args], cwd=w.verify,
              check=check).stdout


def series(w):
    path = os.path.join(w.patches, 'series')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        names = [ln.strip() for ln in f
                 if ln.strip() and not ln.startswith('#')]
    return [os.path.join(w.patches, n) for n in names]


def make_verify_tree(w):
    """The verify worktree = base + git am of the base's series.  Returns
    an error string or None."""
    if os.path.isdir(w.verify):
        sh(['git', 'worktree', 'remove', '--force', w.verify], cwd=w.tree,
           check=False)
        shutil.rmtree(w.verify, ignore_errors=True)
    sh(['git', 'worktree', 'prune'], cwd=w.tree)
    sh(['git', 'worktree', 'add', '-q', '--detach', w.verify, 'base'],
       cwd=w.tree)
    for p in series(w):
        if not os.path.exists(p):
            return (f'{w.rel(w.patches)}/series names a missing file '
                    f'{os.path.basename(p)}')
        r = sh(['git', 'am', '-q', '--committer-date-is-author-date', p],
               cwd=w.verify, check=False)
        if r.returncode:
            sh(['git', 'am', '--abort'], cwd=w.verify, check=False)
            return f'{os.path.basename(p)} does not apply: {r.stderr.strip()}'
    return None


def touched(w, pattern):
    out = git(w, 'diff', '--name-only', '--diff-filter=AM', 'base..HEAD')
    return [f for f in out.split() if re.search(pattern, f)]


def _not_exported(w):
    """diff arguments leaving out what lives beside the patches but is no
    export's output: the backport keeps its check-bisect record there."""
    if os.path.dirname(w.record) == w.patches:
        return ['-x', os.path.basename(w.record)]
    return []


def gate_drift(w, apply_error):
    if apply_error:
        return 'fail', apply_error
    with tempfile.TemporaryDirectory() as tmp:
        sh([os.path.join(ROOT, 'harness', 'export.sh'), w.verify, tmp],
           env=dict(GENV, BASE=w.base))
        r = sh(['diff', '-ru', *_not_exported(w), tmp, w.patches],
               check=False)
    if r.returncode:
        lines = r.stdout.splitlines()
        export = 'make export' + ('' if w.base == bases.DEFAULT else
                                  f' BASE={w.base}')
        return 'fail', (f'{w.rel(w.patches)}/ differs from an export of its '
                        f'own application (stale or hand-edited; run '
                        f'{export}):\n' + '\n'.join(lines[:20]))
    return 'pass', f'{len(series(w))} patch(es) round-trip byte for byte'


def checkpatch(w, path):
    r = sh(['perl', 'scripts/checkpatch.pl', '--strict', '--no-summary',
            '--terse', '--show-types', path], cwd=w.verify, check=False)
    counts = collections.Counter()
    lines = []
    for ln in r.stdout.splitlines():
        m = re.search(r': (ERROR|WARNING|CHECK):', ln)
        if m:
            counts[m.group(1)] += 1
            lines.append(ln)
    return counts, lines


UPSTREAM_COMMITS = os.path.join(ROOT, 'series', 'upstream-commits.txt')


def upstream_commits(path=UPSTREAM_COMMITS):
    """{full id: subject} of the upstream commits the series may cite."""
    known = {}
    with open(path) as f:
        for ln in f:
            if ln.strip() and not ln.startswith('#'):
                cid, subject = ln.rstrip('\n').split(' ', 1)
                if not re.fullmatch(r'[0-9a-f]{40}', cid):
                    raise ValueError(f'{path}: not a full commit id: {cid}')
                known[cid] = subject
    return known


def cited_known(line, patch_text, known):
    """Whether checkpatch's line is an "Unknown commit id" for a commit
    listed in known, cited in the patch with the listed subject."""
    m = re.search(r"Unknown commit id '([0-9a-f]{12,40})'", line)
    if not m:
        return False
    short = m.group(1)
    flat = ' '.join(patch_text.split())
    for cid, subject in known.items():
        if cid.startswith(short) and f'{short} ("{subject}")' in flat:
            return True
    return False


def gate_checkpatch(w):
    pats = series(w)
    if not pats:
        return 'skip', 'series is empty'
    known = upstream_commits()
    bad, checks, cited, total = [], [], [], collections.Counter()
    for p in pats:
        counts, lines = checkpatch(w, p)
        total.update(counts)
        with open(p, errors='replace') as f:
            text = f.read()
        for ln in lines:
            if ': CHECK:' in ln:
                checks.append(ln)
            elif cited_known(ln, text, known):
                cited.append(ln)
            else:
                bad.append(ln)
    detail = (f'{len(pats)} patch(es): {total["ERROR"]} errors, '
              f'{total["WARNING"]} warnings, {total["CHECK"]} checks')
    if cited:
        detail += (f'\n{len(cited)} of the warnings: commit ids this '
                   'history-less tree cannot look up, each listed with '
                   'its subject in series/upstream-commits.txt:\n'
                   + '\n'.join(cited))
    if checks:
        detail += '\nCHECK lines:\n' + '\n'.join(checks)
    if bad:
        return 'fail', detail + '\n' + '\n'.join(bad)
    return 'pass', detail


def _norm(lines):
    """Warnings without line and column numbers, as a multiset."""
    return collections.Counter(re.sub(r':\d+(:\d+(-\d+)?)?:', ':', ln)
                               for ln in lines)


def _obj_arch(w, cfile):
    """An arch whose test kernel of the base builds this file, or None."""
    for arch in ('x86_64', 'arm64'):
        obj = os.path.join(w.obj(arch), cfile[:-2] + '.o')
        if os.path.exists(obj):
            return arch
    return None


def includer(w, cfile):
    """The .c file of the same directory that #includes this one (a KUnit
    test built inside the file whose static helpers it tests), or None."""
    d, name = os.path.split(cfile)
    pat = re.compile(r'^#include "%s"' % re.escape(name), re.M)
    for other in sorted(os.listdir(os.path.join(w.verify, d) or w.verify)):
        path = os.path.join(w.verify, d, other)
        if other.endswith('.c') and other != name and \
                pat.search(open(path, errors='replace').read()):
            return os.path.join(d, other)
    return None


# The (revision, test config) each gate object dir was last configured
# for: olddefconfig (seconds each) runs again only when one changes, not
# for every file the gates build.
_CONFIGURED = {}


def _kmake(w, arch, *targets, silent=True):
    obj = w.obj(f'gate-{arch}')
    os.makedirs(obj, exist_ok=True)
    cross = 'aarch64-linux-gnu-' if arch == 'arm64' else ''
    env = dict(os.environ, **buildenv.kbuild(ROOT))
    base = ['make', f'O={obj}', f'ARCH={arch}',
            f'CROSS_COMPILE={cross}', f'CC=ccache {cross}gcc',
            f'-j{os.cpu_count()}']
    with open(os.path.join(w.obj(arch), '.config'), 'rb') as f:
        config = f.read()
    key = (git(w, 'rev-parse', 'HEAD').strip(),
           hashlib.sha256(config).hexdigest())
    if _CONFIGURED.get(obj) != key:
        _CONFIGURED.pop(obj, None)
        with open(os.path.join(obj, '.config'), 'wb') as f:
            f.write(config)
        sh(base + ['-s', 'olddefconfig'], cwd=w.verify, env=env)
        _CONFIGURED[obj] = key
    # coccicheck prints nothing at all under make -s.
    return sh(base + (['-s'] if silent else []) + list(targets),
              cwd=w.verify, env=env, check=False)


def _per_file(w, files, run, arch_of):
    """Reports the head has and the base lacks, per file: run(w, arch,
    file) gives a file's report lines at each revision; arch_of(w, file)
    says which test kernel builds it (None: none does)."""
    head = git(w, 'rev-parse', 'HEAD').strip()
    new = {}
    plan = [(f, arch_of(w, f)) for f in files]
    missing = [f for f, a in plan if a is None]
    reports = {}
    for rev in ('base', head):
        git(w, 'checkout', '-q', rev)
        for f, arch in plan:
            if arch and os.path.exists(os.path.join(w.verify, f)):
                reports[(rev, f)] = run(w, arch, f)
            else:
                reports[(rev, f)] = []
    git(w, 'checkout', '-q', head)
    for f, _ in plan:
        extra = compare(reports[('base', f)], reports[(head, f)])
        if extra:
            new[f] = extra
    return new, missing


TOOLS = ('build', 'coccicheck', 'sparse', 'kernel-doc')
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


def _gate_tool(w, name, files, run, arch_of=_obj_arch):
    if not files:
        return 'skip', 'series touches no such file'
    new, missing = _per_file(w, files, run, arch_of)
    detail = f'{len(files)} file(s): {", ".join(files)}'
    if missing:
        return 'fail', (detail + '\nnot built by any test config (add it '
                        'to a fragment): ' + ', '.join(missing))
    if new:
        return 'fail', detail + '\nnew reports:\n' + '\n'.join(
            f'{f}: {ln}' for f, lns in new.items() for ln in lns)
    return 'pass', detail + f': no {name} report the base lacks'


def _check_file(w, arch, f, *check, silent=True):
    """Compile one file with a checker (C=1 after removing its object, so
    exactly this file is checked).  A failed build is itself a report: a
    gate must not pass because nothing ran."""
    obj = os.path.join(w.obj(f'gate-{arch}'), f[:-2] + '.o')
    if os.path.exists(obj):
        os.unlink(obj)
    r = _kmake(w, arch, 'C=1', *check, f[:-2] + '.o', silent=silent)
    out = (r.stdout + r.stderr).splitlines()
    if r.returncode:
        return out, tool_failed('build', out)
    return out, []


# v7.3's kbuild runs a checker only if it parses __typeof_unqual__
# (scripts/checker-valid.sh), which Debian's sparse (0.6.4) does not: with
# this definition it does, as __typeof__, qualifiers and all; the same at
# base and head, so the comparison is unchanged.  Unused on 6.12.
SPARSE_CF = 'CF=-D__typeof_unqual__=__typeof__'


# v7.3's MODULE_INFO() opens with a static_assert() on __builtin_strlen(),
# which sparse 0.6.4 cannot evaluate: "error: bad constant expression" at
# every MODULE_*() line, the base's own (drivers/iommu/intel/iommu.c's
# MODULE_IMPORT_NS(), say) as much as a new file's.  Only that report, and
# only on such a line, is the tool's and not the code's.
SPARSE_MODINFO = re.compile(r'^(\S+\.[ch]):(\d+):\d+: error: bad constant '
                            r'expression$')


def _sparse_tool_limit(ln):
    m = SPARSE_MODINFO.match(ln)
    if not m:
        return False
    try:
        with open(m.group(1), errors='replace') as src:
            text = src.read().splitlines()[int(m.group(2)) - 1]
    except (OSError, IndexError):
        return False
    return re.match(r'\s*MODULE_[A-Z_]+\(', text) is not None


def _sparse(w, arch, f):
    out, failed = _check_file(w, arch, f, SPARSE_CF)
    # kbuild drops a checker it finds unfit with a make warning and builds
    # on: nothing was examined, which is a failure of the tool.
    if any('not available or not up to date' in ln for ln in out):
        failed = failed or tool_failed('sparse', out)
    return failed + [ln for ln in out
                     if re.search(r': (warning|error):', ln) and
                     not _sparse_tool_limit(ln)]


def _cocci(w, arch, f):
    if arch == 'included':
        # No object of its own: the script's one-file mode, as kbuild's
        # C=1 runs it (v7.3's M= takes directories only).
        r = sh(['bash', 'scripts/coccicheck', f], cwd=w.verify, check=False,
               env=dict(GENV, C='1', MODE='report', srctree='.'))
        out = (r.stdout + r.stderr).splitlines()
        failed = tool_failed('coccicheck', out) if r.returncode else []
        return failed + [ln for ln in out if ln.startswith(f + ':')]
    if arch == 'tools':
        # No object of its own: check the directory of a user-space
        # program.
        where = os.path.dirname(f)
        r = sh(['make', 'coccicheck', 'MODE=report', f'M={where}'],
               cwd=w.verify, check=False)
        out = (r.stdout + r.stderr).splitlines()
        failed = tool_failed('coccicheck', out) if r.returncode else []
        return failed + [ln for ln in out if ln.startswith(f + ':')]
    out, failed = _check_file(w, arch, f,
                              f'CHECK={w.verify}/scripts/coccicheck',
                              'MODE=report', silent=False)
    # Coccinelle's reports; compiler diagnostics belong to the sparse gate.
    return failed + [ln for ln in out if re.match(r'^\S+\.[ch]:\d+', ln)
                     and not re.search(r': (warning|error|note):', ln)]


# kernel-doc exits 0 even when it could not read its file ("Error: Cannot
# find file ..." on v7.3, "Error: Cannot open file ..." on 6.12): these
# lines, a Python traceback or a non-zero exit mean it examined nothing.
KDOC_FAILED = re.compile(r'^(Error: Cannot (find|open) file|Traceback )')


def _kdoc(w, arch, f):
    r = sh(['perl', 'scripts/kernel-doc', '-none', f], cwd=w.verify,
           check=False)
    out = [ln for ln in r.stderr.splitlines() if ln.strip()]
    if r.returncode or any(KDOC_FAILED.match(ln) for ln in out):
        return tool_failed('kernel-doc', out or [f'exit {r.returncode}'])
    return out


def _kernel_c(f):
    """sparse checks kernel objects; the user-space programs of tools/ are
    built by the harness with -Wall -Werror instead."""
    return not f.startswith('tools/')


def gate_sparse(w):
    """An included file is checked in the build of its includer, which
    reports the lines of both."""
    files = []
    for f in touched(w, r'\.c$'):
        f = includer(w, f) or f
        if _kernel_c(f) and f not in files:
            files.append(f)
    return _gate_tool(w, 'sparse', files, _sparse)


def _cocci_arch(w, f):
    if not _kernel_c(f):
        return 'tools'
    return 'included' if includer(w, f) else _obj_arch(w, f)


def gate_coccicheck(w):
    return _gate_tool(w, 'coccicheck', touched(w, r'\.c$'), _cocci,
                      arch_of=_cocci_arch)


def gate_kerneldoc(w):
    # kernel-doc reads sources and needs no build: any file qualifies.
    return _gate_tool(w, 'kernel-doc', touched(w, r'\.[ch]$'), _kdoc,
                      arch_of=lambda w, f: 'source')


def series_digest(w):
    """The whole series, messages and documentation included: the digest
    of the records written before build_digest() existed."""
    h = hashlib.sha256()
    for p in series(w):
        with open(p, 'rb') as f:
            h.update(f.read())
    return h.hexdigest()


# Paths that no kernel build reads: a patch's changes to them, like its
# message, cannot make a patch build or fail to build.
NOT_BUILT = re.compile(r'Documentation/|MAINTAINERS$|tools/testing/selftests/')


def build_input(text):
    """What of one patch a build reads: its diff sections, in order, less
    those of NOT_BUILT paths (the message, the diffstat and the trailing
    signature are left out too)."""
    end = text.rfind('\n-- \n')     # git format-patch's signature
    keep, out = False, []
    for ln in text[:end if end >= 0 else len(text)].split('\n'):
        if ln.startswith('diff --git '):
            keep = not NOT_BUILT.match(ln.split()[-1][2:])
        # The base information that git format-patch --base ends the
        # first message with: where the series goes, not what it builds.
        elif ln.startswith(('base-commit: ', 'prerequisite-patch-id: ')):
            keep = False
        if keep:
            out.append(ln)
    return '\n'.join(out)


def build_digest(w):
    """The series as builds see it: what make check-bisect records, so that
    a change to messages or documentation only does not ask for another
    bisect of the whole series."""
    h = hashlib.sha256()
    for p in series(w):
        with open(p, encoding='utf-8', errors='surrogateescape') as f:
            h.update(build_input(f.read()).encode('utf-8',
                                                   'surrogateescape'))
        h.update(b'\0')
    return h.hexdigest()


# The digest lines a record can carry, and how each is computed.
RECORD_DIGESTS = {'build-sha256': build_digest, 'series-sha256': series_digest}


def gate_bisect(w):
    if not series(w):
        return 'skip', 'series is empty'
    rec = w.rel(w.record)
    try:
        with open(w.record) as f:
            lines = f.read().split('\n')
    except OSError:
        return 'fail', f'no {rec}: run {w.bisect_cmd()}'
    kind, _, digest = lines[0].partition(' ')
    if kind not in RECORD_DIGESTS:
        return 'fail', f'{rec}: unknown record "{lines[0]}"'
    if digest != RECORD_DIGESTS[kind](w):
        return 'fail', (f'{rec} is for another series: run '
                        f'{w.bisect_cmd()}')
    what = ('the code of this very series (its build digest matches; '
            'messages, Documentation/ and kselftests may differ)'
            if kind == 'build-sha256' else
            'this very series (its digest matches)')
    return 'pass', (f'recorded: {rec} says {w.bisect_cmd()} built every '
                    f'patch of {what}')


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


def gate_selftests(w):
    """Run with the scripts of a base's verify worktree (make it first)."""
    res = []
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, 'bad.patch')
        with open(p, 'w') as f:
            f.write(BAD_PATCH)
        counts, _ = checkpatch(w, p)
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
        # Where kbuild vets its checker (v7.3), it must take sparse as the
        # sparse gate calls it, or that gate would examine nothing.
        valid = os.path.join(w.verify, 'scripts', 'checker-valid.sh')
        if os.path.exists(valid):
            r = sh(['sh', valid, 'sparse', SPARSE_CF.split('=', 1)[1]],
                   cwd=w.verify, check=False)
            res.append(('selftest.sparse-kbuild',
                        'pass' if r.stdout.strip() == '1' else 'fail',
                        'scripts/checker-valid.sh accepts sparse with '
                        f'{SPARSE_CF}: {r.stdout.strip() or r.stderr.strip()}'))
        k = os.path.join(tmp, 'bad.h')
        with open(k, 'w') as f:
            f.write(BAD_KDOC)
        lines = _kdoc(w, None, k)
        gone = _kdoc(w, None, os.path.join(tmp, 'missing.c'))
        ok = (lines and not any(TOOL_FAILED.match(ln) for ln in lines) and
              gone and all(TOOL_FAILED.match(ln) for ln in gone))
        res.append(('selftest.kernel-doc', 'pass' if ok else 'fail',
                    'known-bad comment: ' + ('; '.join(lines) or 'none') +
                    '; a missing file: ' + ('; '.join(gone) or 'none')))
        cocci = os.path.join(w.verify, 'scripts', 'coccinelle', 'null',
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


RUN = {
    'checkpatch': gate_checkpatch, 'sparse': gate_sparse,
    'coccicheck': gate_coccicheck, 'kernel-doc': gate_kerneldoc,
    'bisect': gate_bisect,
}


@contextlib.contextmanager
def verify_lock(w):
    """Hold the base's verify worktree for the caller, or yield an error
    string: make check's gates and make check-bisect both rebuild it and
    check out commits in it, so two at once break each other's builds
    with missing files.  harness/bisect.sh takes the same lock (flock on
    VERIFY.lock); it is released when its holder exits, however it ends."""
    os.makedirs(os.path.dirname(w.verify), exist_ok=True)
    with open(w.verify + '.lock', 'w') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield (f'{w.rel(w.verify)} is in use by another make check or '
                   f'make check-bisect ({w.rel(w.verify)}.lock): run them '
                   f'one after the other')
            return
        yield None


def run_all(base=bases.DEFAULT, names=GATES, selftests=True):
    """[(name, status, detail)] for the named gates of a base, in order,
    then (selftests) the gate self-tests with that base's scripts."""
    return run_where(where(base), names, selftests)


def run_where(w, names, selftests):
    """run_all on the paths of w, with its verify worktree held."""
    with verify_lock(w) as busy:
        if busy:
            return [(w.name(n), 'fail', busy) for n in names]
        return _run_all(w, names, selftests)


def _run_all(w, names, selftests):
    err = make_verify_tree(w)
    res = []
    for n in names:
        if n == 'series-drift':
            st = gate_drift(w, err)
        else:
            st = ('fail', 'series does not apply') if err else RUN[n](w)
        res.append((w.name(n),) + st)
    if selftests and not err:
        res += gate_selftests(w)
    return res
