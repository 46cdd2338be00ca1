#!/usr/bin/env python3
"""The module map is enforced: every `#include "module/..."` in src/ must be one that
docs/ARCHITECTURE.md's table allows, and CMakeLists.txt must link the modules exactly as the
table says. Fails naming each offending include or module."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def doc_map():
    allowed = {}
    for line in read("docs/ARCHITECTURE.md").splitlines():
        m = re.match(r"^\| `([a-z]+)` \| .* \| ([^|]*) \|$", line)
        if not m:
            continue
        deps = m.group(2).strip()
        if deps == "any":
            allowed[m.group(1)] = None
        elif deps == "-":
            allowed[m.group(1)] = set()
        else:
            allowed[m.group(1)] = {d.strip() for d in deps.split(",")}
    return allowed


def cmake_map():
    deps = {}
    for m in re.finditer(r"^set\(BW_DEPS_([a-z]+)((?: [a-z]+)*)\)$", read("CMakeLists.txt"), re.M):
        deps[m.group(1)] = set(m.group(2).split())
    return deps


def main():
    problems = []
    allowed = doc_map()
    if len(allowed) < 10:
        problems.append(f"docs/ARCHITECTURE.md: module table not found ({len(allowed)} rows)")
    modules = sorted(d for d in os.listdir(os.path.join(ROOT, "src")) if os.path.isdir(os.path.join(ROOT, "src", d)))
    for m in modules:
        if m not in allowed:
            problems.append(f"src/{m}/ is not in docs/ARCHITECTURE.md's module map")
    for m, deps in cmake_map().items():
        if allowed.get(m, set()) != deps:
            problems.append(f"CMakeLists.txt links {m} to {sorted(deps)}, the map says {sorted(allowed.get(m) or [])}")
    for m in modules:
        for dirpath, _, files in os.walk(os.path.join(ROOT, "src", m)):
            for name in files:
                if not name.endswith((".c", ".h", ".def")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), ROOT)
                for n, line in enumerate(read(rel).splitlines(), 1):
                    inc = re.match(r'\s*#\s*include\s+"([a-z]+)/', line)
                    if not inc or inc.group(1) == m or allowed.get(m) is None:
                        continue
                    if inc.group(1) not in allowed.get(m, set()):
                        problems.append(f"{rel}:{n}: {m} may not include {inc.group(1)} ({line.strip()})")
    for p in problems:
        print("check_includes:", p)
    print(f"check_includes: {len(modules)} modules, {'FAILED' if problems else 'OK'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
