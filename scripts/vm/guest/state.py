#!/usr/bin/env python3
"""Compares pacemaker's running state with its configuration.

Reads the configured resources (cibadmin -Q -o resources) and the state
(crm_mon --output-as=xml). A primitive in a clone must run on every node
(clone-max, default: the number of cluster nodes) in the role Started, or
Promoted for a promotable clone; a primitive outside a clone must run once.
No instance may be failed, no node unclean or offline, and (with
--no-failures) there may be no failed actions in the history.
--only=ID,ID looks at those primitives only.

Prints one line per primitive and exits 0 when all hold, 1 otherwise.
"""
import subprocess
import sys
import xml.etree.ElementTree as ET


def xml_of(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"state: {' '.join(cmd)} failed: {out.stderr.strip()}")
    return ET.fromstring(out.stdout)


def meta(elem, name):
    for ma in elem.findall("meta_attributes"):
        for nv in ma.findall("nvpair"):
            if nv.get("name") == name:
                return nv.get("value")
    return None


def main():
    quiet = "--quiet" in sys.argv
    strict = "--no-failures" in sys.argv
    only = None
    for a in sys.argv[1:]:
        if a.startswith("--only="):
            only = set(a[len("--only="):].split(","))
    cfg = xml_of(["cibadmin", "-Q", "-o", "resources"])
    mon = xml_of(["crm_mon", "-1", "--inactive", "--output-as=xml"])

    nodes = mon.find("nodes")
    names = [n.get("name") for n in nodes] if nodes is not None else []
    problems = []
    for n in nodes if nodes is not None else []:
        if n.get("online") != "true" or n.get("unclean") == "true":
            problems.append(f"node {n.get('name')} online={n.get('online')} unclean={n.get('unclean')}")

    # What the configuration asks for.
    want = {}
    for clone in cfg.iter("clone"):
        count = int(meta(clone, "clone-max") or len(names))
        promotable = (meta(clone, "promotable") or "false").lower() == "true"
        for prim in clone.iter("primitive"):
            want[prim.get("id")] = (count, "Promoted" if promotable else "Started")
    for prim in cfg.iter("primitive"):
        want.setdefault(prim.get("id"), (1, "Started"))
    if only is not None:
        missing = only - set(want)
        if missing:
            raise SystemExit(f"state: not configured: {' '.join(sorted(missing))}")
        want = {k: v for k, v in want.items() if k in only}

    # What runs.
    have = {}
    for res in mon.iter("resource"):
        rid = res.get("id").split(":")[0]
        if res.get("failed") == "true":
            problems.append(f"{rid} failed")
        if res.get("active") != "true":
            continue
        for n in res.findall("node"):
            have.setdefault(rid, []).append((n.get("name"), res.get("role")))

    ok = not problems
    lines = []
    for rid in sorted(want):
        count, role = want[rid]
        on = sorted(n for n, r in have.get(rid, []) if r == role)
        good = len(on) == count
        ok &= good
        lines.append(f"{'ok ' if good else 'BAD'} {rid}: {role} on [{' '.join(on)}], want {count}")

    failures = mon.find("failures")
    failed_ops = []
    if failures is not None:
        for f in failures:
            failed_ops.append(
                f"failed action {f.get('op_key')} on {f.get('node')}: "
                f"{f.get('exitreason') or f.get('exitstatus')} (status {f.get('status')})"
            )
    if strict and failed_ops:
        ok = False

    if not quiet:
        print("\n".join(lines + problems + failed_ops))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
