#!/usr/bin/env python3
"""Write patches/0000-cover-letter.patch for the series in a kernel tree.

Usage: cover.py TREE OUTDIR

The text comes from series/cover-letter.txt for the mainline series and
series/cover-letter-BASE.txt for another base (BASE from the environment,
as harness/lib.sh sets it; first line: the subject; the rest: the body), followed by the recipients scripts/get_maintainer.pl finds
for each patch of OUTDIR (from MAINTAINERS only, no git history), and by
what git derives from the commits, laid out as b4 does: shortlog, diffstat,
base-commit and change-id.  Same commits and text, same bytes.
"""
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM='1', HOME='/nonexistent',
           LC_ALL='C')


def git(tree, *args):
    return subprocess.run(['git', '-C', tree, '-c', 'core.abbrev=12',
                           '-c', 'diff.renames=true', *args],
                          check=True, capture_output=True, text=True,
                          env=ENV).stdout


# Fixed: the series' identity across its versions, as b4 keeps it.
CHANGE_ID = '20261121-iommu-mixed-guests-4b1d0e'
AUTHOR = 'vbypass developers <dev@vbypass.invalid>'


def maintainers(tree, out):
    """Patches grouped by the recipients get_maintainer.pl gives them."""
    groups = {}
    for path in sorted(glob.glob(os.path.join(out, '[0-9][0-9][0-9][0-9]-*.patch'))):
        num = int(os.path.basename(path)[:4])
        if not num:
            continue
        r = subprocess.run(['perl', 'scripts/get_maintainer.pl', '--nogit',
                            '--nogit-fallback', path], cwd=tree, env=ENV,
                           capture_output=True, text=True, check=True)
        groups.setdefault(r.stdout.strip(), []).append(num)
    text = ('Recipients, from scripts/get_maintainer.pl --nogit '
            '--nogit-fallback on each patch:\n')
    for who, nums in sorted(groups.items(), key=lambda kv: kv[1][0]):
        text += f'\n{ranges(nums)}:\n'
        text += ''.join(f'  {line}\n' for line in who.splitlines())
    return text


def ranges(nums):
    """[1, 2, 3, 5] -> 'Patches 01-03, 05'."""
    spans, start = [], nums[0]
    for a, b in zip(nums, nums[1:] + [None]):
        if b != a + 1:
            spans.append(f'{start:02d}' if start == a else
                         f'{start:02d}-{a:02d}')
            start = b
    return ('Patch ' if len(nums) == 1 else 'Patches ') + ', '.join(spans)


def main():
    tree, out = sys.argv[1], sys.argv[2]
    base_name = os.environ.get('BASE', 'mainline')
    name = ('cover-letter.txt' if base_name == 'mainline'
            else f'cover-letter-{base_name}.txt')
    with open(os.path.join(ROOT, 'series', name)) as f:
        subject, _, body = f.read().partition('\n')
    n = int(git(tree, 'rev-list', '--count', 'base..HEAD'))
    width = max(2, len(str(n)))
    base = git(tree, 'rev-parse', 'base').strip()
    shortlog = git(tree, 'shortlog', 'base..HEAD') if n else ''
    stat = git(tree, 'diff', '--stat=72', '--summary', 'base..HEAD') if n else ''
    text = ('From 0000000000000000000000000000000000000000 '
            'Mon Sep 17 00:00:00 2001\n'
            'From: vbypass harness <harness@vbypass.invalid>\n'
            f'Subject: [PATCH {0:0{width}d}/{n:0{width}d}] '
            f'{subject.strip()}\n\n'
            f'{body.strip()}\n\n')
    if n:
        text += maintainers(tree, out) + '\n'
    text += '---\n'
    text += shortlog.rstrip() + '\n\n' if n else '(The series is empty.)\n\n'
    if stat:
        text += stat.rstrip() + '\n'
    text += (f'---\nbase-commit: {base}\nchange-id: {CHANGE_ID}\n\n'
             f'Best regards,\n-- \n{AUTHOR}\n')
    with open(os.path.join(out, '0000-cover-letter.patch'), 'w') as f:
        f.write(text)


if __name__ == '__main__':
    main()
