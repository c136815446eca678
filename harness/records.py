"""Guest records: the lines the guest wrote on its verdict channel."""
from supervise import read_text


def parse_verdict(path):
    """The guest's VB lines as dicts, in order.  A forwarded kselftest
    line ("VB ktap ...") keeps its text whole, as line."""
    recs, raw = [], []
    for line in read_text(path).replace('\r', '').split('\n'):
        if line.startswith('VB ktap '):
            recs.append({'kind': 'ktap', 'line': line[len('VB ktap '):]})
            continue
        if not line.startswith('VB '):
            if line:
                raw.append(line)
            continue
        words = line.split()
        rec = {'kind': words[1]}
        for w in words[2:]:
            k, _, v = w.partition('=')
            rec[k] = v
        # What an exec step's program printed comes just before its line.
        if rec['kind'] == 'step' and rec.get('name') == 'exec':
            rec['output'] = raw
        raw = []
        recs.append(rec)
    return recs
