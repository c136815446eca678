#!/usr/bin/env python3
"""One home for the environment of the harness's kernel builds and git
commands.  The shell scripts get it through lib.sh, which evaluates this
program's output; gates.py imports it.

Usage: buildenv.py ROOT   (prints export lines for a POSIX shell)
"""
import os
import shlex
import sys

CCACHE_DIR = '/var/cache/vbypass/ccache'

# A fixed identity and date for every commit the harness makes, so that the
# same tarball and series give the same hashes on every machine.  git am
# keeps each patch's own author; the committer is always this one.
GIT_COMMITTER = {
    'GIT_COMMITTER_NAME': 'vbypass harness',
    'GIT_COMMITTER_EMAIL': 'harness@vbypass.invalid',
    'GIT_COMMITTER_DATE': '2025-01-01T00:00:00Z',
}
GIT_IDENTITY = {
    'GIT_AUTHOR_NAME': 'vbypass harness',
    'GIT_AUTHOR_EMAIL': 'harness@vbypass.invalid',
    **GIT_COMMITTER,
}


def kbuild(root, environ=None):
    """ccache and kbuild settings of every kernel build (test kernels,
    check-bisect, the gates): one cache kept between clones, shared by
    clones at any path, and reproducible build stamps."""
    environ = os.environ if environ is None else environ
    return {
        'CCACHE_DIR': environ.get('CCACHE_DIR', CCACHE_DIR),
        'CCACHE_BASEDIR': root,
        'CCACHE_NOHASHDIR': '1',
        # kbuild passes -fmacro-prefix-map=<absolute source dir>/=, which
        # only makes __FILE__ relative: leave it out of the hash so that
        # clones elsewhere hit too.
        'CCACHE_IGNOREOPTIONS': '-fmacro-prefix-map=*',
        'CCACHE_COMPILERCHECK': 'content',
        'KBUILD_BUILD_TIMESTAMP': '2025-01-01',
        'KBUILD_BUILD_USER': 'vbypass',
        'KBUILD_BUILD_HOST': 'harness',
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for key, val in {**GIT_IDENTITY, **kbuild(sys.argv[1])}.items():
        print(f'export {key}={shlex.quote(val)}')


if __name__ == '__main__':
    main()
