"""A small client of QEMU's monitor protocol (QMP) on a unix socket.

QMP speaks one JSON object per line: QEMU greets, the client sends
{"execute": ..., "arguments": ...} and gets {"return": ...} or {"error":
...}; events ({"event": ...}) may come in between and are skipped.  Every
message in both directions is written to a log ("->" sent, "<-" received)
so a run directory shows what the monitor said.
"""
import json
import socket


class QMPError(Exception):
    pass


class QMP:
    """One connection; use as a context manager."""

    def __init__(self, path, log, timeout=10):
        self.log = log
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
            self.rfile = self.sock.makefile('rb')
            if 'QMP' not in self._recv():
                raise QMPError('no QMP greeting')
        except BaseException:
            self.sock.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.rfile.close()
        self.sock.close()

    def _recv(self):
        line = self.rfile.readline()
        if not line:
            raise QMPError('QEMU closed the monitor')
        self.log.write('<- ' + line.decode(errors='replace').rstrip() + '\n')
        return json.loads(line)

    def command(self, name, args=None):
        """Run one command; returns its "return" value, raises QMPError
        with QEMU's description on an error reply."""
        msg = {'execute': name}
        if args:
            msg['arguments'] = args
        text = json.dumps(msg)
        self.log.write('-> ' + text + '\n')
        self.sock.sendall(text.encode() + b'\n')
        while True:
            reply = self._recv()
            if 'return' in reply:
                return reply['return']
            if 'error' in reply:
                raise QMPError(f'{name}: {reply["error"].get("desc")}')
