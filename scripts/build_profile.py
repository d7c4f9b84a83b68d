#!/usr/bin/python3
"""Where a build's time went, from ninja's log: per module (src/<module>, tests/<module>, the
precompiled headers, fuzz/), the compile steps, their CPU seconds and the slowest step; then
the wall time from the first step's start to the last step's end.

    scripts/build_profile.py build            # after a clean `cmake --build build ...`

The log keeps the latest run of each step: profile a clean build (an empty build folder, and
CCACHE_DISABLE=1 when ccache is installed), or the figures mix runs.
"""
import os
import sys
from collections import defaultdict


def module_of(output):
    parts = output.split("/")
    if "cmake_pch" in output or output.startswith("CMakeFiles/preimage_pch"):
        return "precompiled headers"
    if parts[0] in ("src", "tests") and len(parts) > 1:
        return parts[0] + "/" + parts[1]
    return parts[0]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    steps = {}
    with open(os.path.join(build, ".ninja_log")) as f:
        for line in f:
            if line.startswith("#"):
                continue
            start, end, _, output, _ = line.rstrip("\n").split("\t")
            steps[output] = (int(start), int(end))  # the latest run of each output
    total = defaultdict(float)
    count = defaultdict(int)
    slowest = defaultdict(lambda: (0.0, ""))
    for output, (start, end) in steps.items():
        m = module_of(output)
        seconds = (end - start) / 1000
        total[m] += seconds
        count[m] += 1
        if seconds > slowest[m][0]:
            slowest[m] = (seconds, os.path.basename(output))
    print("| module | steps | CPU s | slowest step |")
    print("|---|---|---|---|")
    for m in sorted(total, key=total.get, reverse=True):
        print("| %s | %d | %.1f | %s (%.1f s) |" % (m, count[m], total[m], slowest[m][1], slowest[m][0]))
    wall = (max(e for _, e in steps.values()) - min(s for s, _ in steps.values())) / 1000
    print("| all | %d | %.1f | wall %.1f s |" % (sum(count.values()), sum(total.values()), wall))


if __name__ == "__main__":
    main()
