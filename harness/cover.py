#!/usr/bin/env python3
"""Write patches/0000-cover-letter.patch for the series in a kernel tree.

Usage: cover.py TREE OUTDIR

The text comes from series/cover-letter.txt (first line: the subject; the
rest: the body), followed by what git derives from the commits: shortlog,
diffstat and base-commit.  Same commits and text, same bytes.
"""
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


def main():
    tree, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(ROOT, 'series', 'cover-letter.txt')) as f:
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
    text += shortlog.rstrip() + '\n\n' if n else '(The series is empty.)\n\n'
    if stat:
        text += stat.rstrip() + '\n\n'
    text += f'base-commit: {base}\n'
    with open(os.path.join(out, '0000-cover-letter.patch'), 'w') as f:
        f.write(text)


if __name__ == '__main__':
    main()
