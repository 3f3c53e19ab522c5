#!/usr/bin/python3
"""unitexec.py - a systemd unit's Exec lines run as systemd would run them,
where systemd is not PID 1 (tests/integration/86-systemd.sh).

  unitexec.py [--show] UNIT KEY INSTANCE [FROM=TO]...

runs the command lines of KEY (ExecStart, ExecReload, ExecStop) of UNIT
in order, stopping at the first that fails (its exit code is ours), the
last in place of this process (so a service's pid is its main process's).
With User=, the commands run as that user and Group=, with no capability
(the units that set User= bound none) and no new privileges, through
setpriv. --show prints what would run, as JSON, instead.

What of systemd.unit, systemd.service and systemd.exec it follows:
specifiers %i %I %n %%; quoting (single, double, backslash); Environment=
then EnvironmentFile= (a leading '-': optional), and only those (plus
PATH) in the environment; "$$" is a literal "$", "${VAR}" is replaced
within a word and "$VAR" as a whole word splits on white space (unset: no
word); a leading '-' on the command (its failure ignored) is dropped.
FROM=TO rewrites the unit's text first (the binary and /etc paths of the
test).
"""
import json
import os
import re
import shlex
import subprocess
import sys


def unit_lines(text):
    """(section, key, value) of a unit file, continuation lines joined."""
    sec, out, buf = None, [], ""
    for raw in text.splitlines():
        line = buf + raw
        if line.endswith("\\"):
            buf = line[:-1] + " "
            continue
        buf = ""
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("["):
            sec = s.strip("[]")
            continue
        k, _, v = s.partition("=")
        out.append((sec, k.strip(), v.strip()))
    return out


def specifiers(v, inst, name):
    m = {"i": inst, "I": inst, "n": name, "%": "%"}
    return re.sub(r"%(.)", lambda x: m[x.group(1)], v)


def env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            s = line.strip()
            if not s or s[0] in "#;":
                continue
            k, _, v = s.partition("=")
            w = shlex.split(v) if v.strip() else [""]
            env[k.strip()] = " ".join(w)
    return env


def expand(words, env):
    out = []
    for w in words:
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", w)
        if m:
            out.extend(env.get(m.group(1), "").split())
            continue
        w = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                   lambda x: env.get(x.group(1), ""),
                   w.replace("$$", "\0"))
        out.append(w.replace("\0", "$"))
    return out


def main():
    args = sys.argv[1:]
    show = args[0] == "--show"
    if show:
        args = args[1:]
    unit, key, inst = args[:3]
    text = open(unit).read()
    for sub in args[3:]:
        a, _, b = sub.partition("=")
        text = text.replace(a, b)
    name = unit.rsplit("/", 1)[-1].replace("@.", "@%s." % inst)
    env, cmds, user, group = {}, [], None, None
    for sec, k, v in unit_lines(text):
        if sec != "Service":
            continue
        v = specifiers(v, inst, name)
        if k == "Environment":
            for w in shlex.split(v):
                a, _, b = w.partition("=")
                env[a] = b
        elif k == "EnvironmentFile":
            opt = v.startswith("-")
            p = v.lstrip("-")
            try:
                env.update(env_file(p))
            except FileNotFoundError:
                if not opt:
                    raise
        elif k == "User":
            user = v
        elif k == "Group":
            group = v
        elif k == key:
            cmds.append(v)
    argvs = []
    for c in cmds:
        words = shlex.split(c)
        words[0] = words[0].lstrip("-@+!")
        argvs.append(expand(words, env))
    if show:
        json.dump({"cmds": argvs, "env": env, "user": user,
                   "group": group}, sys.stdout)
        return 0
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    if user:
        pre = ["setpriv", "--reuid=" + user, "--regid=" + (group or user),
               "--init-groups", "--inh-caps=-all", "--bounding-set=-all",
               "--no-new-privs"]
        argvs = [pre + a for a in argvs]
    for i, a in enumerate(argvs):
        if i == len(argvs) - 1:
            os.execvpe(a[0], a, env)
        rc = subprocess.call(a, env=env)
        if rc:
            return rc
    return 0


sys.exit(main())
