#!/usr/bin/env python3
"""Write the cover letter of the series in a kernel tree; for a base split
into topic series, write the topics' folders.

Usage: cover.py TREE OUTDIR            one series: OUTDIR/0000-cover-letter.patch
       cover.py --topics TREE OUTDIR   the topic series of the base's topics file
       cover.py --has-topics           exit 0 when the base has a topics file

One series (the backport): the text comes from series/cover-letter-BASE.txt
(BASE from the environment, as harness/lib.sh sets it; first line: the
subject; the rest: the body), followed by the recipients
scripts/get_maintainer.pl finds for each patch of OUTDIR (from MAINTAINERS
only, no git history), and by what git derives from the commits, laid out
as b4 does: shortlog, diffstat, base-commit and change-id.

Topic series (mainline, series/topics.toml): each topic takes the next
`patches` commits of base..HEAD, which together must be all of them.  Its
folder OUTDIR/N-NAME/ holds what git format-patch -vVERSION --cover-letter
--base=base writes for its commits, the cover letter's text replaced by
series/cover-NAME.txt as above: a later topic's cover letter names the
earlier topics' patches as prerequisites (prerequisite-patch-id), all on
one base commit.  OUTDIR/series lists every patch, topic by topic, in the
order git am applies them.  Same commits and texts, same bytes.
"""
import glob
import os
import re
import subprocess
import sys
import tomllib

import bases

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM='1', HOME='/nonexistent',
           LC_ALL='C')


def git(tree, *args):
    # The settings of harness/lib.sh's g(), which exports the one series.
    return subprocess.run(['git', '-C', tree, '-c', 'core.abbrev=12',
                           '-c', 'diff.renames=true',
                           '-c', 'diff.algorithm=myers',
                           '-c', 'format.thread=false',
                           '-c', 'user.useConfigOnly=false', *args],
                          check=True, capture_output=True, text=True,
                          env=ENV).stdout


# Fixed: the series' identity across its versions, as b4 keeps it.
CHANGE_ID = '20261121-iommu-mixed-guests-4b1d0e'
AUTHOR = 'vbypass developers <dev@vbypass.invalid>'


def numbered(out):
    """[(number, path)] of the patch files of a folder, cover letter aside:
    NNNN-*.patch, or vV-NNNN-*.patch as format-patch -vV names them."""
    found = []
    for path in sorted(glob.glob(os.path.join(out, '*.patch'))):
        m = re.match(r'(v\d+-)?(\d{4})-', os.path.basename(path))
        if m and int(m.group(2)):
            found.append((int(m.group(2)), path))
    return found


def maintainers(tree, patches):
    """Patches grouped by the recipients get_maintainer.pl gives them."""
    groups = {}
    for num, path in patches:
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


def letter(tree, out, text_file, lo, hi, change_id, prefix='PATCH',
           base_info=None, recipients=True):
    """The cover letter of the commits lo..hi, whose patches are in out:
    the text of text_file, the recipients (unless told not to: a topic's
    mail carries each patch's own To: and Cc:, harness/outgoing.py), the
    shortlog and diffstat, and the base information (git's block for the
    series, base_info, or the base commit alone)."""
    with open(os.path.join(ROOT, 'series', text_file)) as f:
        subject, _, body = f.read().partition('\n')
    n = int(git(tree, 'rev-list', '--count', f'{lo}..{hi}'))
    width = len(str(n))     # as git format-patch numbers the patches
    shortlog = git(tree, 'shortlog', f'{lo}..{hi}') if n else ''
    stat = git(tree, 'diff', '--stat=72', '--summary', f'{lo}..{hi}') if n else ''
    if base_info is None:
        base_info = f'base-commit: {git(tree, "rev-parse", "base").strip()}\n'
    text = ('From 0000000000000000000000000000000000000000 '
            'Mon Sep 17 00:00:00 2001\n'
            'From: vbypass harness <harness@vbypass.invalid>\n'
            f'Subject: [{prefix} {0:0{width}d}/{n:0{width}d}] '
            f'{subject.strip()}\n\n'
            f'{body.strip()}\n\n')
    if n and recipients:
        text += maintainers(tree, numbered(out)) + '\n'
    text += '---\n'
    text += shortlog.rstrip() + '\n\n' if n else '(The series is empty.)\n\n'
    if stat:
        text += stat.rstrip() + '\n'
    text += (f'---\n{base_info}change-id: {change_id}\n\n'
             f'Best regards,\n-- \n{AUTHOR}\n')
    return text


class TopicError(Exception):
    pass


def load_topics(path):
    """(version, [topic]) of a topics file; TopicError naming the file and
    the fault."""
    rel = os.path.relpath(path, ROOT)
    try:
        with open(path, 'rb') as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise TopicError(f'{rel}: {e}') from None
    version, topics = data.get('version'), data.get('topic')
    extra = set(data) - {'version', 'topic'}
    if extra:
        raise TopicError(f'{rel}: unknown key(s) {sorted(extra)}')
    if type(version) is not int or version < 1:
        raise TopicError(f'{rel}: version must be a number from 1')
    if not topics:
        raise TopicError(f'{rel}: no [[topic]]')
    seen = set()
    for i, t in enumerate(topics, 1):
        if set(t) != {'name', 'patches', 'change-id'}:
            raise TopicError(f'{rel}: topic {i} must have exactly name, '
                             f'patches and change-id, not {sorted(t)}')
        if not isinstance(t['name'], str) or \
                not re.fullmatch(r'[a-z0-9]+(-[a-z0-9]+)*', t['name']) or \
                t['name'] in seen:
            raise TopicError(f'{rel}: topic {i}: name "{t["name"]}" is not '
                             'a new lower-case-dashed word')
        seen.add(t['name'])
        if type(t['patches']) is not int or t['patches'] < 1:
            raise TopicError(f'{rel}: topic {t["name"]}: patches must be a '
                             'number from 1')
        if not os.path.exists(os.path.join(ROOT, 'series',
                                           f'cover-{t["name"]}.txt')):
            raise TopicError(f'{rel}: topic {t["name"]}: no '
                             f'series/cover-{t["name"]}.txt')
    return version, topics


def topics_file(base_name):
    """The base's topics file, absolute, or None."""
    b = bases.BASES[base_name]
    return os.path.join(ROOT, b.topics) if b.topics else None


def base_block(cover_text):
    """git's base information block of a cover letter it wrote: from the
    base-commit: line to the end of the prerequisite-patch-id: lines."""
    lines = cover_text.split('\n')
    start = next(i for i, ln in enumerate(lines)
                 if ln.startswith('base-commit: '))
    end = start + 1
    while end < len(lines) and lines[end].startswith('prerequisite-patch-id: '):
        end += 1
    return '\n'.join(lines[start:end]) + '\n'


def stable_patch_id(tree, commit):
    """git patch-id --stable of a commit, as a reader computes it from the
    posted patch (git 2.39's format-patch --base writes other ids for
    some commits, which no reader can reproduce)."""
    diff = subprocess.run(['git', '-C', tree, 'show', '--format=', commit],
                          check=True, capture_output=True).stdout
    ids = subprocess.run(['git', 'patch-id', '--stable'], input=diff,
                         check=True, capture_output=True).stdout.split()
    return ids[0].decode()


def prerequisite_block(tree, base, upto, block):
    """The base information block for a topic after upto: git's
    base-commit: line, then the stable patch id of every commit of
    base..upto, in order."""
    first = block.split('\n', 1)[0]
    commits = git(tree, 'rev-list', '--reverse', f'{base}..{upto}').split()
    return first + '\n' + ''.join(
        f'prerequisite-patch-id: {stable_patch_id(tree, c)}\n'
        for c in commits)


def export_topics(tree, out, path):
    """Write the topic series of path into out: a folder per topic and
    out/series.  Returns the folders' names."""
    version, topics = load_topics(path)
    commits = git(tree, 'rev-list', '--reverse', 'base..HEAD').split()
    want = sum(t['patches'] for t in topics)
    if want != len(commits):
        raise TopicError(f'{os.path.relpath(path, ROOT)}: its topics take '
                         f'{want} patch(es), the series has {len(commits)}')
    listed, folders, lo, used = [], [], 'base', 0
    for k, t in enumerate(topics, 1):
        used += t['patches']
        hi = commits[used - 1]
        folder = f'{k}-{t["name"]}'
        d = os.path.join(out, folder)
        os.makedirs(d)
        git(tree, 'format-patch', '-q', '--zero-commit', '--no-signature',
            '--base=base', '--cover-letter', f'-v{version}', '-o', d,
            f'{lo}..{hi}')
        cover = os.path.join(d, f'v{version}-0000-cover-letter.patch')
        with open(cover) as f:
            block = prerequisite_block(tree, 'base', lo,
                                       base_block(f.read()))
        with open(cover, 'w') as f:
            f.write(letter(tree, d, f'cover-{t["name"]}.txt', lo, hi,
                           t['change-id'], f'PATCH v{version}', block,
                           recipients=False))
        listed += [f'{folder}/{os.path.basename(p)}' for _, p in numbered(d)]
        folders.append(folder)
        lo = hi
    with open(os.path.join(out, 'series'), 'w') as f:
        f.write("# The series, in the order 'make tree' applies it (git am):\n"
                '# its topic series one after the other.\n'
                "# Generated by 'make export' from the kernel tree: do not "
                'edit.\n' + ''.join(n + '\n' for n in listed))
    return folders


def main():
    args = sys.argv[1:]
    base_name = os.environ.get('BASE', bases.DEFAULT)
    if args == ['--has-topics']:
        return 0 if topics_file(base_name) else 1
    if args[:1] == ['--topics']:
        tree, out = args[1:3]
        try:
            export_topics(tree, out, topics_file(base_name))
        except TopicError as e:
            print(f'error: {e}', file=sys.stderr)
            return 1
        return 0
    tree, out = args
    name = ('cover-letter.txt' if base_name == bases.DEFAULT
            else f'cover-letter-{base_name}.txt')
    with open(os.path.join(out, '0000-cover-letter.patch'), 'w') as f:
        f.write(letter(tree, out, name, 'base', 'HEAD', CHANGE_ID))
    return 0


if __name__ == '__main__':
    sys.exit(main())
