#!/usr/bin/env python3
"""make outgoing: the series as its sender would mail it, checked as sent.

Usage: outgoing.py [--base BASE] [--out DIR]

patches/ (make export) carries a fixed placeholder author so that the
drift gate can compare exports byte for byte; nobody can send that.  This
writes the base's series again into build/outgoing/BASE/ (or DIR), laid
out as patches/ is (on mainline a folder per topic series), with
the sender's own identity: From: and the Signed-off-by: trailer of every
patch, To: (maintainers) and Cc: (reviewers, lists) per patch from
scripts/get_maintainer.pl, on a cover letter the union over its series.  Then it
checks exactly those files: git am onto the base in a scratch worktree
(build/outgoing/BASE-verify), the sender as author and signer of every commit
it makes, no placeholder address left, and checkpatch --strict as the
checkpatch gate judges it.  Nothing sends mail.

The sender is GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL from the environment,
else the caller's git config user.name and user.email (as git send-email
reads them); refused when unset or a placeholder (a reserved domain such
as .invalid, .example, .test or example.com, or the series' own
placeholder author).
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

import bases
import cover
import gates

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLACEHOLDER = cover.AUTHOR
# The domain of the placeholders of the export (the author of the
# patches, the committer that writes the cover letter).
PLACEHOLDER_DOMAIN = PLACEHOLDER.split('@')[1].rstrip('>')
PLACEHOLDER_ID = re.compile(r'[^\n<]*<[^\n>@]*@' +
                            re.escape(PLACEHOLDER_DOMAIN) + '>')
# The placeholder author's name alone, as a cover letter's shortlog
# heads its patches with it ("vbypass developers (5):").
PLACEHOLDER_NAME = PLACEHOLDER.split(' <')[0]
SHORTLOG_AUTHOR = re.compile(r'^' + re.escape(PLACEHOLDER_NAME) +
                             r'( \(\d+\):)$', re.M)
# Domains that name no one (RFC 2606, RFC 6761), and the suffix GitHub
# gives addresses it keeps private.
RESERVED = re.compile(r'(^|\.)(invalid|example|test|localhost|local|'
                      r'example\.(com|net|org))$|noreply', re.I)
ADDRESS = re.compile(r'^[^<>@\s]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$')


class SenderError(Exception):
    pass


def sender(environ=None, gitconfig=None):
    """'Name <email>' of whoever sends, or SenderError saying why not."""
    env = os.environ if environ is None else environ
    name, email = env.get('GIT_AUTHOR_NAME'), env.get('GIT_AUTHOR_EMAIL')
    if not (name and email):
        cfg = gitconfig or (lambda key: subprocess.run(
            ['git', 'config', '--get', key], capture_output=True,
            text=True).stdout.strip())
        name, email = cfg('user.name'), cfg('user.email')
    if not (name and email):
        raise SenderError('no sender: set GIT_AUTHOR_NAME and '
                          'GIT_AUTHOR_EMAIL, or git config user.name and '
                          'user.email')
    who = f'{name} <{email}>'
    if not ADDRESS.match(email) or \
            RESERVED.search(email.rsplit('@', 1)[-1]) or \
            who == PLACEHOLDER or '<' in name or '>' in name:
        raise SenderError(f'"{who}" is a placeholder or not an address '
                          f'mail can reach: set the identity you send as')
    return who


def recipients(tree, patch):
    """(to, cc) of one patch file as scripts/get_maintainer.pl gives them
    from MAINTAINERS: its maintainers, then its reviewers and lists."""
    def run(*opts):
        out = subprocess.run(['perl', 'scripts/get_maintainer.pl',
                              '--nogit', '--nogit-fallback', '--norolestats',
                              *opts, patch], cwd=tree, check=True,
                             capture_output=True, text=True,
                             env=cover.ENV).stdout
        return [ln.strip() for ln in out.splitlines()
                if ln.strip() and PLACEHOLDER_DOMAIN not in ln]
    return run('--no-r', '--no-l'), run('--no-m')


def header(name, people):
    """A To: or Cc: header, one address per folded line; [] if none."""
    return [f'{name}: ' + ',\n '.join(people)] if people else []


def rewrite(text, who, to, cc):
    """One exported patch as its sender mails it."""
    head, sep, body = text.partition('\n\n')
    head, n = re.subn(r'^From: ' + PLACEHOLDER_ID.pattern + '$',
                      lambda m: '\n'.join([f'From: {who}'] +
                                          header('To', to) +
                                          header('Cc', cc)),
                      head, count=1, flags=re.M)
    if not sep or not n:
        raise SenderError('not an exported patch: no placeholder From:')
    # The trailers, and the cover letter's signature.
    body = re.sub(r'^(Signed-off-by: )?' + PLACEHOLDER_ID.pattern + '$',
                  lambda m: (m.group(1) or '') + who, body, flags=re.M)
    # A cover letter's shortlog names the author without an address.
    name = who.split(' <')[0]
    body = SHORTLOG_AUTHOR.sub(lambda m: name + m.group(1), body)
    return head + sep + body


def write(w, out, who):
    """build/outgoing/BASE/ from the base's patches/, laid out as it is
    (a folder per topic series where the base has topics), and its series
    file.  A cover letter's To: and Cc: are the union of its folder's."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    pats = gates.series(w)
    people = {p: recipients(w.tree, p) for p in pats}
    folders = {os.path.dirname(p) for p in pats} or {w.patches}
    for folder in sorted(folders):
        union = ([], [])
        for p in pats:
            if os.path.dirname(p) == folder:
                for mine, theirs in zip(union, people[p]):
                    mine.extend(x for x in theirs if x not in mine)
        for c in glob.glob(os.path.join(folder, '*0000-cover-letter.patch')):
            people[c] = union
    for src, (to, cc) in people.items():
        with open(src) as f:
            text = rewrite(f.read(), who, to, cc)
        dst = os.path.join(out, os.path.relpath(src, w.patches))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, 'w') as f:
            f.write(text)
    shutil.copy(os.path.join(w.patches, 'series'), out)


def placeholder_left(text):
    """Whether an outgoing file still names the placeholder: its
    address, or its name heading a shortlog."""
    return PLACEHOLDER_DOMAIN in text or bool(SHORTLOG_AUTHOR.search(text))


def check(w, who, with_checkpatch=True):
    """[(name, status, detail)] of the outgoing files of w."""
    res = []
    err = gates.make_verify_tree(w)
    pats = gates.series(w)
    topics = sorted({os.path.dirname(os.path.relpath(p, w.patches))
                     for p in pats} - {''})
    res.append(('outgoing.git-am', 'fail' if err else 'pass',
                err or f'{len(pats)} patch(es) apply to the base with git '
                'am' + (f', topic series after topic series '
                        f'({", ".join(topics)})' if topics else '')))
    if err:
        return res
    log = gates.git(w, 'log', '--format=%an <%ae>%x00%B%x01', 'base..HEAD')
    bad = [c.split('\0')[1].split('\n')[0] for c in log.split('\1')[:-1]
           if not c.strip().startswith(who) or
           f'Signed-off-by: {who}' not in c]
    leftover = [os.path.relpath(f, w.patches) for f in
                glob.glob(os.path.join(w.patches, '**', '*.patch'),
                          recursive=True)
                if placeholder_left(open(f).read())]
    res.append(('outgoing.identity', 'fail' if bad or leftover else 'pass',
                f'commits not authored and signed off by {who}: {bad}; '
                f'files naming the placeholder: {leftover}'
                if bad or leftover else
                f'every commit authored and signed off by {who}'))
    if with_checkpatch:
        st, det = gates.gate_checkpatch(w)
        res.append(('outgoing.checkpatch', st, det))
    return res


def prepare(base, who, out, with_checkpatch=True):
    """Write the base's series as who sends it into out and check it:
    [(name, status, detail)].  make check runs it with a test identity
    (TEST_SENDER) and without checkpatch, which its gate runs on the same
    patches; make outgoing runs all of it."""
    src = gates.where(base)
    write(src, out, who)
    w = gates.Where(base, src.tree, out.rstrip('/') + '-verify', out,
                    src.record)
    return check(w, who, with_checkpatch)


# make check's sender: never sent, and refused by sender() for real mail.
TEST_SENDER = 'Tess Tester <tess.tester@example.org>'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--base', default=bases.DEFAULT, choices=bases.BASES)
    ap.add_argument('--out')
    a = ap.parse_args()
    try:
        who = sender()
    except SenderError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    out = a.out or os.path.join(ROOT, 'build', 'outgoing', a.base)
    res = prepare(a.base, who, out)
    for name, st, det in res:
        print(f'{st.upper():6} {name}  {det}')
    print(f'>> {os.path.relpath(out, ROOT)}/: the series as {who} would '
          f'send it (nothing was sent)')
    return 1 if any(st == 'fail' for _, st, _ in res) else 0


if __name__ == '__main__':
    sys.exit(main())
