"""
Lures built from their specifications, in the tests (nothing is downloaded): Windows shortcuts (MS-SHLLINK),
PE executables (PE/COFF headers), OOXML documents with a remote template, RTF, PDF, mails (RFC 5322 / MIME), and
archives and disk images written by bsdtar (libarchive's own tool). Each builder returns bytes.
"""
import base64
import io
import os
import struct
import subprocess
import tempfile
import zipfile
from email.message import EmailMessage
from email.policy import SMTP

LNK_CLSID = bytes.fromhex("0114020000000000c000000000000046")  # {00021401-0000-0000-C000-000000000046}


def lnk(target="..\\..\\Windows\\System32\\cmd.exe", args="/c powershell -w hidden -enc SQBFAFgA"):
    """A shell link (MS-SHLLINK 2.1 header, then RELATIVE_PATH and COMMAND_LINE_ARGUMENTS string data)."""
    flags = 0x08 | 0x20 | 0x80  # HasRelativePath | HasArguments | IsUnicode
    header = struct.pack("<I16sII8s8s8sIiIHHII", 0x4C, LNK_CLSID, flags, 0x20, b"\0" * 8, b"\0" * 8, b"\0" * 8, 0, 0,
                         7, 0, 0, 0, 0)
    assert len(header) == 76
    out = header
    for s in (target, args):
        out += struct.pack("<H", len(s)) + s.encode("utf-16-le")
    return out


def pe():
    """A minimal PE32 image: DOS stub header, PE signature, COFF header, optional header, one section."""
    dos = b"MZ" + b"\0" * 58 + struct.pack("<I", 0x40)
    coff = struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, 0xE0, 0x0102)
    opt = struct.pack("<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII", 0x10B, 14, 0, 0x200, 0, 0, 0x1000, 0x1000, 0x2000,
                      0x400000, 0x1000, 0x200, 6, 0, 0, 0, 6, 0, 0, 0x2000, 0x200, 0, 2, 0, 0x100000, 0x1000,
                      0x100000, 0x1000, 0, 16) + b"\0" * 128
    sect = struct.pack("<8sIIIIIIHHI", b".text", 0x10, 0x1000, 0x200, 0x200, 0, 0, 0, 0, 0x60000020)
    img = dos + b"PE\0\0" + coff + opt + sect
    return img + b"\0" * (0x200 - len(img)) + b"\xc3" + b"\0" * 0x1ff


def pdf(javascript=None):
    """A one-page PDF; with javascript, an OpenAction that runs it."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R%s >>" % (b" /OpenAction 4 0 R" if javascript else b""),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]
    if javascript:
        objs.append(b"<< /S /JavaScript /JS (%s) >>" % javascript.encode())
    out = b"%PDF-1.7\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, o)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def docx(template_url=None):
    """A Word document (OOXML); with template_url, settings that attach a remote template."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/>'
                   '<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.settings+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                   '<w:p><w:r><w:t>Senior Engineer - Job Description</w:t></w:r></w:p></w:body></w:document>')
        z.writestr("word/settings.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">%s</w:settings>'
                   % ('<w:attachedTemplate r:id="rId1"/>' if template_url else ""))
        if template_url:
            z.writestr("word/_rels/settings.xml.rels",
                       '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       'relationships/attachedTemplate" Target="%s" TargetMode="External"/></Relationships>'
                       % template_url)
    return b.getvalue()


def rtf_template(url):
    return (b"{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}{\\*\\template %s}"
            b"\\f0\\fs24 Interview schedule\\par}" % url.encode())


def bsdtar(fmt, files, passphrase=None):
    """An archive (zip, iso9660, ...) of files {name: bytes} written by bsdtar (libarchive)."""
    with tempfile.TemporaryDirectory() as d:
        for name, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)) or d, exist_ok=True)
            open(os.path.join(d, name), "wb").write(data)
        out = os.path.join(d, "out.bin")
        args = ["bsdtar", "--format", fmt, "-cf", out]
        if passphrase:
            args[1:1] = ["--options", "zip:encryption=zipcrypt", "--passphrase", passphrase]
        subprocess.run(args + ["-C", d] + list(files), check=True, capture_output=True)
        return open(out, "rb").read()


def nested_zip(levels, inner=b"deep inside\n"):
    data, name = inner, "core.txt"
    for i in range(levels):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w") as z:
            z.writestr(name, data)
        data, name = b.getvalue(), "level%d.zip" % i
    return data


def bomb(size=300_000_000):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("report.bin", b"\0" * size)
    return b.getvalue()


def mail(subject, text, sender="Jane Doe <jane@partner.example>", to="staff@bulwark.example", html=None,
         attachments=(), headers=None):
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = "Sat, 28 Nov 2026 09:00:00 +0000"
    m["Message-ID"] = "<lure-%s@example>" % base64.b32encode(os.urandom(5)).decode().lower()
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(text)
    if html:
        m.add_alternative(html, subtype="html")
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes(policy=SMTP)


def dream_job_mail():
    """The Operation Dream Job pattern: a recruiter's pitch, a password-protected ZIP holding a shortcut."""
    z = bsdtar("zip", {"Senior_Engineer_JD.pdf.lnk": lnk()}, passphrase="DJ2026")
    return mail("Senior Engineer opportunity - confidential",
                "Dear candidate,\n\nI am a recruiter for a leading aerospace company. Please find the job "
                "description and the salary range attached; the assessment follows after the interview.\n\n"
                "The archive password is: DJ2026\n\nBest regards,\nAnna",
                sender="Anna Recruiter <anna@careers-aero.example>",
                headers={"Reply-To": "anna.hr@freemail.example"},
                attachments=[("Senior_Engineer_JD.zip", "application/zip", z)])


VBA_TOOL = os.environ.get("VBA_TOOL") or "build/tests/vba_tool"


def vba(kind, source, module="Module1"):
    """An OLE2 file with a VBA project (tests/integration/vba_tool.c): kind bin (vbaProject.bin), xls or doc."""
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "m.bas"), os.path.join(d, "out")
        open(src, "w").write(source.replace("\n", "\r\n"))
        subprocess.run([VBA_TOOL, kind, out, module, src], check=True, capture_output=True)
        return open(out, "rb").read()


def docm(source):
    """A macro-enabled Word document: docx() with word/vbaProject.bin holding source."""
    zin = zipfile.ZipFile(io.BytesIO(docx()))
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for it in zin.infolist():
            data = zin.read(it.filename)
            if it.filename == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml") \
                    .replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                                          b"</Types>")
            z.writestr(it, data)
        z.writestr("word/vbaProject.bin", vba("bin", source))
    return b.getvalue()
