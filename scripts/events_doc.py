#!/usr/bin/env python3
"""Rewrites the tables of docs/EVENTS.md from `bulwark events` (the program's own vocabulary table)."""
import subprocess
import sys

bulwark = sys.argv[1] if len(sys.argv) > 1 else "build/bulwark"
tables = subprocess.run([bulwark, "events"], check=True, capture_output=True, text=True).stdout
doc = open("docs/EVENTS.md").read()
start = doc.index("## Actions and fields\n\n") + len("## Actions and fields\n\n")
end = doc.index("\n## The public entry")
open("docs/EVENTS.md", "w").write(doc[:start] + tables + doc[end:])
