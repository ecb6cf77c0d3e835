#!/usr/bin/env python3
"""Where the first-boot helper's CPU went, from `perf script -F ip,sym` of a
`perf record --call-graph fp` run on it (scripts/vm-profile.sh makes one per
node). Each sample is put where the helper's own function on its stack says:
a command (started and waited for), asleep (a wait, the back channel), the
node's files, or its own work; the own work is split further, and the state
file's writes by the system call they were in. Percentages are of the
samples; a sample whose stack does not reach the helper's main loop (a stack
the frame pointers could not follow) is counted apart.

    perf-own-work.py SCRIPT.txt
"""
import collections
import sys

# The first match, in this order, names a sample's place.
PLACES = [
    ("commands", ["real::run_child", "spawn_and_wait", "Host>::run_for"]),
    ("asleep", ["poll_readable", "wait_readable", "Host>::sleep", "thread::sleep",
                "serve_for", "barrier::link"]),
    ("node files", ["Ctx::write"]),
]
OWN = [
    ("state file", ["Ctx::save_as"]),
    ("crm_mon XML", ["roxmltree", "steps::crm_mon"]),
    ("log lines", ["Logger::info"]),
    ("file reads (/proc/drbd, /proc/mounts, ...)", ["Host>::read_file"]),
    ("timing clocks", ["Clocks::now"]),
]


def samples(path):
    stack = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                if stack:
                    yield stack
                stack = []
                continue
            parts = line.split(None, 1)
            stack.append(parts[1] if len(parts) > 1 else "?")
    if stack:
        yield stack


def first(stack, table):
    for name, keys in table:
        if any(k in f for f in stack for k in keys):
            return name
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    places, own, state = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for st in samples(sys.argv[1]):
        total += 1
        if not any("runner::run_items" in f or "cli::main" in f for f in st):
            places["(stack not followed)"] += 1
            continue
        place = first(st, PLACES) or "own work"
        places[place] += 1
        if place != "own work":
            continue
        what = first(st, OWN) or "the steps' own logic"
        own[what] += 1
        if what == "state file":
            call = next((f for f in st if f.startswith("__x64_sys_")), None)
            if call:
                state[call[len("__x64_sys_"):] + "(2)"] += 1
            elif any("toml" in f for f in st):
                state["TOML"] += 1
            else:
                state["other"] += 1
    if not total:
        sys.exit("no samples")
    pct = lambda n, of: f"{100.0 * n / of:5.1f} %"
    print(f"{total} samples")
    for k, v in places.most_common():
        print(f"  {pct(v, total)}  {k}")
    ow = places["own work"] or 1
    print("own work:")
    for k, v in own.most_common():
        print(f"  {pct(v, ow)}  {k}")
    sw = own["state file"] or 1
    print("state file writes:")
    for k, v in state.most_common(8):
        print(f"  {pct(v, sw)}  {k}")


if __name__ == "__main__":
    main()
