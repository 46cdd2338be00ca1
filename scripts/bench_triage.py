#!/usr/bin/env python3
"""
Triage speed: samples made here (the lures of tests/integration/lures.py, a 25 MB mail, a YARA corpus),
then bench/triage_bench, beside `yara -p 1` (the command-line tool, one thread) with the same rules on the
same files in the same run.
    bench_triage.py BUILD [DIR]
"""
import os
import random
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import lures  # noqa: E402

build = sys.argv[1]
d = sys.argv[2] if len(sys.argv) > 2 else "/tmp/bulwark-bench-triage"
shutil.rmtree(d, ignore_errors=True)
mix, corpus = os.path.join(d, "mix"), os.path.join(d, "corpus")
os.makedirs(mix)
os.makedirs(corpus)
samples = {
    "dream_job.eml": lures.dream_job_mail(),
    "clean.eml": lures.mail("Minutes", "Hello,\nthe minutes are attached.\nJane", sender="Jane <jane@bulwark.example>",
                            attachments=[("minutes.pdf", "application/pdf", lures.pdf())]),
    "phish.eml": lures.mail("Quota", "x", sender='"it@bulwark.example" <a@bulwark-example.com>',
                            html='<a href="http://198.51.100.9/">https://mail.bulwark.example</a>'),
    "JD.docx": lures.docx("https://evil.example/t.dotm"),
    "report.docx": lures.docx(),
    "Offer.pdf": lures.pdf("app.alert(1)"),
    "minutes.pdf": lures.pdf(),
    "Interview.rtf": lures.rtf_template("http://203.0.113.7/t.dot"),
    "resume.pdf.exe": lures.pe(),
    "Invitation.iso": lures.bsdtar("iso9660", {"Invitation.lnk": lures.lnk(), "Invitation.pdf": lures.pdf()}),
}
for name, data in samples.items():
    open(os.path.join(mix, name), "wb").write(data)
rnd = random.Random(20261128)
words = b"the of and to in offer salary design report wafer hull sonar budget schedule review ".split()
for i in range(32):
    if i % 2:
        data = rnd.randbytes(4 << 20)
    else:
        data = b" ".join(rnd.choice(words) for _ in range(700000))[: 4 << 20]
    open(os.path.join(corpus, "f%02d.bin" % i), "wb").write(data)
# a 25 MB mail: text, a .docx, a PDF and a large ZIP of report data (base64 in the mail)
big_zip = lures.bsdtar("zip", {"q3_data.csv": b"".join(b"%d,%d,%d\n" % (i, i * 7, i * 13) for i in range(400000)),
                               "q3_raw.bin": rnd.randbytes(16 << 20)})
big = lures.mail("Q3 data for the review", "Hello,\nthe Q3 data are attached.\nRegards", sender="Jane <jane@bulwark.example>",
                 attachments=[("Q3.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                               lures.docx()), ("Q3.pdf", "application/pdf", lures.pdf()),
                              ("Q3_data.zip", "application/zip", big_zip)])
open(os.path.join(d, "big.eml"), "wb").write(big)
rules = os.path.join(HERE, "..", "rules", "yara", "lures.yar")
total = sum(os.path.getsize(os.path.join(corpus, f)) for f in os.listdir(corpus))
best = 1e9
for _ in range(3):
    t0 = time.monotonic()
    p = subprocess.run(["yara", "-p", "1", "-w", rules, corpus], capture_output=True)
    best = min(best, time.monotonic() - t0)
    if p.returncode != 0:
        raise SystemExit("yara failed: " + p.stderr.decode())
print("baseline: yara -p 1 (%s) on the same %d files, %.0f MB: %.3f s, %.1f MB/s (best of 3, process start "
      "and rule compilation included)" % (subprocess.run(["yara", "--version"], capture_output=True, text=True)
                                         .stdout.strip(), len(os.listdir(corpus)), total / 1e6, best, total / 1e6 / best))
sys.stdout.flush()
subprocess.run([os.path.join(build, "triage_bench"), mix, corpus, os.path.join(d, "big.eml")], check=True)
shutil.rmtree(d, ignore_errors=True)
