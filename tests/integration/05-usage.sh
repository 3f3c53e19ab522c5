#!/bin/bash
# 05-usage.sh - the README's usage block (section "Using it", the indented
# command lines) says what the tool says: for every command and rule
# subcommand, `tcpflags CMD --help` (its usage lines, generated from the
# command's option table) and the README name the same options, both ways,
# and the same commands.  No root, no network: only --help is run.
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

"$PY" - "$TCPF" "$ROOT/README.md" <<'EOF'
import re, subprocess, sys

tcpf, readme = sys.argv[1], sys.argv[2]
OPT = re.compile(r'--[a-z][a-z-]*')


def key_and_opts(text):
    """'tcpflags rule add IFACE [--json]' -> ('rule add', {'--json'})."""
    words = text.split()
    words = words[words.index('tcpflags') + 1:]
    key = []
    for w in words:
        if not re.fullmatch(r'[a-z]+', w):
            break
        key.append(w)
    return ' '.join(key), set(OPT.findall(text))


def usage_entries(args):
    """The usage paragraph of `tcpflags ARGS --help`: {key: options}."""
    out = subprocess.run([tcpf, *args, '--help'], capture_output=True,
                         text=True, check=True).stdout
    para = out.split('\n\n')[0]
    entries, cur = {}, None
    for line in para.splitlines():
        if 'tcpflags ' in line:
            cur, opts = key_and_opts(line)
            entries[cur] = opts
        elif cur is not None:
            entries[cur] |= set(OPT.findall(line))
    return entries


def tool_commands():
    out = subprocess.run([tcpf, '--help'], capture_output=True, text=True,
                         check=True).stdout
    table = out.split('commands:\n')[1].split('\n\n')[0]
    return [line.split()[0] for line in table.splitlines()]


def tool():
    got = {}
    for cmd in tool_commands():
        entries = usage_entries([cmd])
        if list(entries) == [cmd]:
            got.update(entries)
            continue
        for key in entries:          # a command of subcommands
            got.update(usage_entries(key.split()))
    return got


def readme_entries():
    text = open(readme).read()
    block = text.split('\n## Using it\n')[1].split('```')[0]
    got, cur = {}, None
    for line in block.splitlines():
        if not line.startswith('    '):
            continue
        synopsis = re.split(r'\s{2,}', line.strip())[0]
        if line.startswith('    tcpflags '):
            cur, opts = key_and_opts(synopsis)
            if cur:
                got[cur] = got.get(cur, set()) | opts
            else:
                cur = None           # "tcpflags -v ...": global options
        elif cur:
            got[cur] |= set(OPT.findall(synopsis))
    return got


failed = 0


def check(name, ok, why):
    global failed
    print(('PASS %s' % name) if ok else ('FAIL %s: %s' % (name, why)))
    failed += not ok


t, r = tool(), readme_entries()
check('usage: the commands --help lists are in the README',
      not set(t) - set(r), 'missing from the README: %s' % sorted(set(t) - set(r)))
check('usage: the README names no command the tool lacks',
      not set(r) - set(t), 'not a command: %s' % sorted(set(r) - set(t)))
check('usage: at least 14 commands and subcommands', len(t) >= 14,
      'only %d: %s' % (len(t), sorted(t)))
for key in sorted(set(t) & set(r)):
    check('usage: %s: every option of --help in the README' % key,
          not t[key] - r[key], 'missing: %s' % sorted(t[key] - r[key]))
    check('usage: %s: every README option in --help' % key,
          not r[key] - t[key], 'not an option: %s' % sorted(r[key] - t[key]))
sys.exit(1 if failed else 0)
EOF
