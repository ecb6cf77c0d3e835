#!/usr/bin/env python3
"""chkconfig 1.3.30 for a fixture root: the %post tests put this first on
PATH as `chkconfig`. It keeps the rc links in $ROOT/etc/rc.d/rc[0-6].d
exactly as chkconfig 1.3.30 would (fedora-sysv/chkconfig, tag
chkconfig-1.3.30.2, chkconfig.c and leveldb.c; docs/evidence/el5.md §6):

- an init script is read up to the point where both its `# chkconfig:`
  levels and its description are known; `### BEGIN INIT INFO` makes it
  LSB only if it comes before that (readServiceInfo). A script without
  both "does not support chkconfig"; a missing one is an error (exit 1);
- `--add`: for a non-LSB script, only the runlevels that have no link of
  the service yet get one (S<start> where the header's levels say on,
  else K<stop>); existing links are left alone (addService);
- `--del`: every link goes (delService);
- `on` / `off` (levels 2-5 unless --level), `resetpriorities` (levels 2-5
  unless --level; each level keeps its on/off) and `reset` (levels 0-6:
  on where the header says) delete the links of those levels and make them
  again with the header's priorities (setService, doSetService);
- `NAME` alone: exit 0 when it starts in the current runlevel
  ($RUNLEVEL, default 3), else 1.

LSB scripts (whose links chkconfig recomputes from dependencies) are not
modelled: the model refuses one with exit 3, so a test cannot pass on a
guess. Every call is appended to $CHKCONFIG_LOG when that is set; a call
whose arguments, joined by spaces, equal $CHKCONFIG_FAIL fails (exit 1)
without changing anything, as a broken chkconfig would.
"""

import glob
import os
import re
import sys

ROOT = os.environ.get("ROOT", "")
RC = ROOT + "/etc/rc.d"


def die(msg, code=1):
    sys.stderr.write(msg + "\n")
    sys.exit(code)


def read_service(name):
    """(levels bitmask, start, stop) of an init script, as readServiceInfo."""
    path = "%s/init.d/%s" % (RC, name)
    try:
        with open(path, encoding="latin-1") as f:
            lines = f.read().split("\n")
    except OSError as e:
        die("error reading information on service %s: %s" % (name, e.strerror))
    levels = None
    start = stop = None
    desc = False
    lsb = False
    for line in lines:
        if levels is not None and desc:
            break
        s = line.lstrip()
        if not s.startswith("#"):
            continue
        s = s[1:]
        if s.startswith("## BEGIN INIT INFO"):
            lsb = True
        s = s.lstrip()
        if s.startswith("chkconfig:"):
            m = re.match(r"chkconfig:\s*(\S+)\s+(\d+)\s+(\d+)\s", s + "\n")
            if not m:
                die("service %s does not support chkconfig" % name)
            lv, sp, kp = m.group(1), int(m.group(2)), int(m.group(3))
            if sp > 99 or kp > 99:
                die("service %s does not support chkconfig" % name)
            start, stop = sp, kp
            if lv == "-":
                levels = 0
            elif re.fullmatch(r"[0-6]+", lv):
                levels = sum(1 << int(c) for c in lv)
            else:
                die("service %s does not support chkconfig" % name)
        elif s.startswith("description") or s.startswith("Description:") or s.startswith(
            "Short-Description:"
        ):
            desc = True
    if levels is None or not desc:
        die("service %s does not support chkconfig" % name)
    if lsb:
        die("model: %s is an LSB init script; chkconfig recomputes its links from "
            "its dependencies, which this model does not do" % name, 3)
    return levels, start, stop


def entries(name, level):
    return sorted(
        p
        for p in glob.glob("%s/rc%d.d/[SK][0-9][0-9]%s" % (RC, level, glob.escape(name)))
        if os.path.islink(p) or os.path.exists(p)
    )


def is_on(name, level):
    e = entries(name, level)
    return bool(e) and "/S" in e[0][len(RC):]


def set_link(name, level, on, start, stop):
    for p in entries(name, level):
        os.unlink(p)
    d = "%s/rc%d.d" % (RC, level)
    os.makedirs(d, exist_ok=True)
    link = "%s/%s%02d%s" % (d, "S" if on else "K", start if on else stop, name)
    os.symlink("../init.d/%s" % name, link)


def main(argv):
    log = os.environ.get("CHKCONFIG_LOG")
    if log:
        with open(log, "a") as f:
            f.write("chkconfig %s\n" % " ".join(argv))
    if os.environ.get("CHKCONFIG_FAIL") == " ".join(argv):
        die("chkconfig: failed (CHKCONFIG_FAIL)")
    args = list(argv)
    where = 0
    if args[:1] in (["--level"], ["--levels"]):
        if len(args) < 2 or not re.fullmatch(r"[0-6]+", args[1]):
            die("usage: chkconfig [--level <levels>] <name> <on|off|reset|resetpriorities>")
        where = sum(1 << int(c) for c in args[1])
        args = args[2:]
    if args[:1] == ["--add"] and len(args) == 2:
        name = args[1]
        levels, start, stop = read_service(name)
        for i in range(7):
            if not entries(name, i):
                set_link(name, i, bool(levels & (1 << i)), start, stop)
        return 0
    if args[:1] == ["--del"] and len(args) == 2:
        read_service(args[1])
        for i in range(7):
            for p in entries(args[1], i):
                os.unlink(p)
        return 0
    if args[:1] == ["--list"] and len(args) == 2:
        read_service(args[1])
        print("%-15s" % args[1] + "".join(
            "\t%d:%s" % (i, "on" if is_on(args[1], i) else "off") for i in range(7)))
        return 0
    if len(args) == 1:
        read_service(args[0])
        return 0 if is_on(args[0], int(os.environ.get("RUNLEVEL", "3"))) else 1
    if len(args) == 2:
        name, state = args
        states = {"on": 1, "off": 0, "reset": -1, "resetpriorities": -2}
        if state not in states:
            die("usage: chkconfig [--level <levels>] <name> <on|off|reset|resetpriorities>")
        st = states[state]
        if not where:
            where = 0b0111100 if st != -1 else 0b1111111
        levels, start, stop = read_service(name)
        for i in range(7):
            if not where & (1 << i):
                continue
            if st in (0, 1):
                on = bool(st)
            elif st == -2:
                on = is_on(name, i)
            else:
                on = bool(levels & (1 << i))
            set_link(name, i, on, start, stop)
        return 0
    die("usage: chkconfig --add|--del|--list <name> | [--level <levels>] <name> [on|off|reset|resetpriorities]")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
