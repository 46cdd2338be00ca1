#!/usr/bin/env python3
"""
Sharing between two organisations over TAXII 2.1: two bulwark servers on loopback, each sharing a confirmed
lure with the other in one direction and pulling the other's collection in the other. A partner is a principal of
its own (a token, the collections granted to it); TLP is enforced (red never served, amber+strict only to the
organisation named); paging with added_after, limit and next; the TAXII media types, errors and HTTP Basic. Every
resource is checked against the properties of the specification's examples (tests/data/taxii), and the feed client
reads the specification's example envelope from a plain HTTPS server. Pulled indicators make a sample that carries
one a threat, with the reason; pulls run on their schedule too; a revoked partner is refused at once.
"""
import base64
import http.server
import json
import os
import sqlite3
import ssl
import subprocess
import threading

import lures
from bwserver import ADMIN_PW, Client, api_cli, free_port, init, invite, serve, stop, totp, wait_fresh_step
from bwtest import BW, expect, fail, finish, tmpdir, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
KAT = os.path.join(HERE, "..", "data", "taxii")
TAXII = "application/taxii+json;version=2.1"
ACCEPT = {"Accept": TAXII}


def kat(name):
    return json.load(open(os.path.join(KAT, name)))


def like_spec(what, got, example, required):
    """got has the required properties, none the example lacks, each of the example's JSON type."""
    expect(isinstance(got, dict), f"{what}: a JSON object: {got}")
    missing = [k for k in required if k not in got]
    unknown = [k for k in got if k not in example]
    types = [k for k in got if k in example and type(got[k]) is not type(example[k])]
    expect(not missing and not unknown and not types,
           f"{what} as the specification's example: missing {missing}, unknown {unknown}, wrong type {types}: {got}")


base = tmpdir()


class Site:
    """One organisation: its server, admin, analyst, staff member."""

    def __init__(self, name, origin):
        self.data = os.path.join(base, name)
        _, self.secret, _ = init(self.data, origin=origin)
        self.cert = os.path.join(self.data, "tls/cert.pem")
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.srv = serve(self.data, self.port, "--login-backoff-ms", "0", "--org-domain", name + ".example")
        self.c = Client(self.port, self.cert)

    def sign_in(self, who):
        st, j, _, _ = self.c.req("POST", "/api/v1/login", {"username": "admin", "password": ADMIN_PW,
                                                             "otp": totp(self.secret)})
        expect(st == 200, f"{who}: admin signs in: {st} {j}")
        self.admin = j["token"]
        self.staff, _, _ = invite(self.c, self.admin, "staff1", ["staff"])
        self.analyst, _, _ = invite(self.c, self.admin, "ana", ["analyst"])

    def cli(self, *args, token, check=None):
        return api_cli(*args, server=self.url, cacert=self.cert, token=token, cwd=base, check=check)

    def taxii(self, path, token, headers=None):
        h = dict(ACCEPT)
        h.update(headers or {})
        st, j, r, _ = self.c.req("GET", path, token=token, headers=h)
        return st, j, r

    def report(self, raw, name=None):
        """A staff member reports raw; returns the triaged report as analysts see it."""
        path = os.path.join(base, "sample-%d" % os.getpid())
        open(path, "wb").write(raw)
        args = ["report", "submit"] + (["--name", name] if name else ["--name", ""]) + [path]
        rc, out = self.cli(*args, token=self.staff)
        expect(rc == 0 and "received" in out, f"report submit: {out}")
        rid = int(out.split("report ")[1].split()[0])
        return wait_for(f"report {rid} triaged", lambda: (lambda j: j["verdict"] != "pending" and j)(
            self.c.req("GET", "/api/v1/reports/%d" % rid, token=self.analyst)[1]))

    def resolve(self, rid, verdict="threat"):
        self.cli("report", "update", str(rid), "--status", "resolved", "--verdict", verdict, "--reason", "confirmed",
                 token=self.analyst, check=0)


A = Site("orga", "orga.example/log")
B = Site("orgb", "orgb.example/log")
fake = None
try:
    wait_fresh_step()
    A.sign_in("A")
    B.sign_in("B")

    # ---- A confirms a Dream Job lure and shares it with partner organisation B ----
    r1 = A.report(lures.dream_job_mail())
    expect(r1["verdict"] == "threat", f"A: the lure is a threat: {r1['verdict']}")
    A.resolve(r1["id"])
    rc, out = A.cli("taxii", "collection", "add", "Dream Job lures", "--description", "confirmed lures", token=A.admin,
                    check=0)
    coll = out.strip()
    expect(len(coll) == 36, f"a collection id: {out}")
    rc, out = A.cli("partner", "add", "orgb", "--org", "Org B", token=A.analyst)
    expect(rc != 0 and "roles" in out, f"only admins add partners: {out}")
    rc, out = A.cli("partner", "add", "orgb", "--org", "Org B", token=A.admin, check=0)
    tok_b = out.strip().splitlines()[-1]
    expect(tok_b.startswith("bwp_"), f"the partner's token, shown once: {out}")
    rc, out = A.cli("partner", "add", "orgc", "--org", "Org C", token=A.admin, check=0)
    tok_c = out.strip().splitlines()[-1]
    rc, out = A.cli("partner", "add", "orgb", "--org", "Org B again", token=A.admin)
    expect(rc != 0 and "exists" in out, f"a partner's name is taken once: {out}")
    A.cli("taxii", "grant", coll, "orgb", token=A.admin, check=0)
    rc, out = A.cli("taxii", "collection", "list", token=A.analyst, check=0)
    expect(coll in out and "readers: orgb" in out, f"the collection and who reads it: {out}")

    # refused shares
    st, j, _, _ = A.c.req("POST", "/api/v1/reports/%d/share" % r1["id"], {"collection": coll, "tlp": "red"},
                          token=A.analyst)
    expect(st == 422 and "never shared" in j["error"], f"TLP:RED is not put into a collection: {st} {j}")
    st, j, _, _ = A.c.req("POST", "/api/v1/reports/%d/share" % r1["id"], {"collection": coll, "tlp": "amber+strict"},
                          token=A.analyst)
    expect(st == 422 and "for_org" in j["error"], f"amber+strict names its organisation: {st} {j}")
    st, j, _, _ = A.c.req("POST", "/api/v1/reports/%d/share" % r1["id"], {"collection": coll}, token=A.staff)
    expect(st == 403, f"staff do not share: {st}")
    r_open = A.report(lures.mail("lunch", "see you at noon", sender="Bob <bob@orga.example>"))
    st, j, _, _ = A.c.req("POST", "/api/v1/reports/%d/share" % r_open["id"], {"collection": coll}, token=A.analyst)
    expect(st == 409 and "resolved" in j["error"], f"an unresolved report is not shared: {st} {j}")
    rc, out = A.cli("report", "share", str(r1["id"]), "--collection", coll, token=A.analyst, check=0)
    expect("TLP:amber" in out and "objects added" in out, f"bulwark report share: {out}")

    # ---- TAXII 2.1 as partner B sees it ----
    st, j, r = A.taxii("/taxii2/", tok_b, {"Accept": "application/json"})
    expect(st == 406 and r.getheader("Content-Type") == TAXII, f"a client not taking TAXII gets 406: {st} {j}")
    like_spec("the error message", j, kat("error.json"), ["title"])
    st, j, r = A.taxii("/taxii2/", None)
    expect(st == 401 and "Bearer" in (r.getheader("WWW-Authenticate") or ""), f"no token: 401 with a challenge: {st}")
    like_spec("the 401 error message", j, kat("error.json"), ["title"])
    st, j, r = A.taxii("/taxii2/", tok_b)
    expect(st == 200 and r.getheader("Content-Type") == TAXII, f"discovery: {st} {r.getheader('Content-Type')}")
    like_spec("discovery", j, kat("discovery.json"), ["title"])
    expect(j["api_roots"] == ["https://127.0.0.1:%d/taxii2/api/" % A.port] and j["default"] == j["api_roots"][0],
           f"discovery names the API root: {j}")
    st, j, _ = A.taxii("/taxii2/api/", tok_b)
    like_spec("the API root", j, kat("api_root.json"), ["title", "versions", "max_content_length"])
    expect(TAXII in j["versions"], f"the API root speaks TAXII 2.1: {j}")
    st, j, _ = A.taxii("/taxii2/api/collections/", tok_b)
    expect(st == 200 and len(j["collections"]) == 1, f"B reads one collection: {st} {j}")
    like_spec("a collection", j["collections"][0], kat("collections.json")["collections"][0],
              ["id", "title", "can_read", "can_write"])
    expect(j["collections"][0]["id"] == coll and j["collections"][0]["can_read"] and
           not j["collections"][0]["can_write"], f"B's collection: {j}")
    st, j, _ = A.taxii("/taxii2/api/collections/", tok_c)
    expect(st == 200 and j == {}, f"C was granted nothing: an empty object: {st} {j}")
    st, j, _ = A.taxii("/taxii2/api/collections/%s/" % coll, tok_c)
    expect(st == 404, f"nor may C look at it: {st} {j}")
    st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/" % coll, tok_c)
    expect(st == 404, f"nor read its objects: {st} {j}")
    st, j, _ = A.taxii("/taxii2/api/collections/%s/" % coll, tok_b)
    like_spec("the collection", j, kat("collections.json")["collections"][0], ["id", "title", "can_read", "can_write"])
    st, env, r = A.taxii("/taxii2/api/collections/%s/objects/" % coll, tok_b)
    expect(st == 200 and r.getheader("Content-Type") == TAXII, f"objects: {st}")
    like_spec("the envelope", env, kat("envelope.json"), [])
    types = sorted({o["type"] for o in env["objects"]})
    expect(types == ["identity", "indicator", "marking-definition", "report"], f"the shared bundle's objects: {types}")
    inds = [o for o in env["objects"] if o["type"] == "indicator"]
    pats = [o["pattern"] for o in inds]
    expect(any("email-addr:value = 'anna@careers-aero.example'" in p for p in pats) and
           all("staff1" not in json.dumps(o) for o in env["objects"]) and
           all(o["object_marking_refs"] == ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
               for o in env["objects"] if o["type"] != "marking-definition"),
           f"the lure's indicators, marked TLP:AMBER, never the reporter: {pats}")
    first, last = r.getheader("X-TAXII-Date-Added-First"), r.getheader("X-TAXII-Date-Added-Last")
    expect(first and last and first < last and first.endswith("Z") and len(first) == 27,
           f"X-TAXII-Date-Added-First/Last: {first} {last}")
    # Basic authentication with the token as the password
    basic = base64.b64encode(b"orgb:" + tok_b.encode()).decode()
    st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/" % coll, None, {"Authorization": "Basic " + basic})
    expect(st == 200 and len(j["objects"]) == len(env["objects"]), f"HTTP Basic with the token: {st}")
    # paging: limit and next walk the same objects, in the order added
    seen, nxt, pages = [], None, 0
    while True:
        q = "?limit=2" + ("&next=" + nxt if nxt else "")
        st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/%s" % (coll, q), tok_b)
        expect(st == 200, f"a page: {st} {j}")
        seen += [o["id"] for o in j.get("objects", [])]
        pages += 1
        if not j["more"]:
            break
        nxt = j["next"]
    expect(seen == [o["id"] for o in env["objects"]] and pages == (len(seen) + 1) // 2,
           f"limit/next pages through everything once: {pages} pages, {seen}")
    st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/?added_after=%s" % (coll, first), tok_b)
    expect([o["id"] for o in j["objects"]] == [o["id"] for o in env["objects"]][1:],
           f"added_after the first: everything after it: {j}")
    st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/?added_after=%s" % (coll, last), tok_b)
    expect(st == 200 and j == {"more": False}, f"added_after the last: nothing: {j}")
    st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/?match[type]=indicator" % coll, tok_b)
    expect([o["id"] for o in j["objects"]] == [o["id"] for o in inds], f"match[type]: {j}")
    for q, want in (("match[version]=all", len(env["objects"])), ("match[version]=first", len(env["objects"])),
                    ("match[spec_version]=2.1", len(env["objects"])), ("match[spec_version]=2.0", 0),
                    ("match[id]=" + inds[0]["id"], 1)):
        st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/?%s" % (coll, q), tok_b)
        expect(st == 200 and len(j.get("objects", [])) == want, f"{q}: {want} objects: {st} {j}")
    st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/%s/" % (coll, inds[0]["id"]), tok_b)
    expect(st == 200 and [o["id"] for o in j["objects"]] == [inds[0]["id"]], f"one object: {st} {j}")
    st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/indicator--00000000-0000-4000-8000-000000000000/" % coll,
                       tok_b)
    expect(st == 404, f"an object not there: {st}")
    st, j, _ = A.taxii("/taxii2/api/collections/%s/manifest/" % coll, tok_b)
    expect(st == 200 and len(j["objects"]) == len(env["objects"]), f"the manifest: {st} {j}")
    for m in j["objects"]:
        like_spec("a manifest record", m, kat("manifest.json")["objects"][0], ["id", "date_added", "version"])
    for bad in ("added_after=yesterday", "limit=0", "limit=x", "next=abc", "match[version]=2016-01-01T00:00:00Z",
                "match[type]=Indicator"):
        st, j, r = A.taxii("/taxii2/api/collections/%s/objects/?%s" % (coll, bad), tok_b)
        expect(st == 400 and r.getheader("Content-Type") == TAXII and j["http_status"] == "400",
               f"{bad}: a TAXII error: {st} {j}")

    # ---- TLP: amber+strict only to the organisation named; red never ----
    r2 = A.report(lures.mail("Interview assessment", "Dear candidate, the skill test is attached.",
                             sender="HR <talent@recruit-defense.example>",
                             attachments=[("assessment.exe", "application/octet-stream", lures.pe())]))
    A.resolve(r2["id"])
    A.cli("report", "share", str(r2["id"]), "--collection", coll, "--tlp", "amber+strict", "--for-org", "Org C",
          token=A.analyst, check=0)
    A.cli("taxii", "grant", coll, "orgc", token=A.admin, check=0)
    st, jb, _ = A.taxii("/taxii2/api/collections/%s/objects/?match[type]=indicator" % coll, tok_b)
    st, jc, _ = A.taxii("/taxii2/api/collections/%s/objects/?match[type]=indicator" % coll, tok_c)
    b_pats = " ".join(o["pattern"] for o in jb["objects"])
    c_pats = " ".join(o["pattern"] for o in jc["objects"])
    expect("talent@recruit-defense.example" not in b_pats and "talent@recruit-defense.example" in c_pats,
           f"amber+strict for Org C: C reads it, B does not: {b_pats} / {c_pats}")
    # red: never served, even when a row is there (put in behind the server's back)
    db = sqlite3.connect(os.path.join(A.data, "bulwark.db"), timeout=30)
    row = db.execute("SELECT object FROM taxii_objects WHERE collection_id = ? AND type = 'indicator' LIMIT 1",
                     (coll,)).fetchone()
    red = json.loads(row[0])
    red["id"] = "indicator--11111111-2222-4333-8444-555555555555"
    red["pattern"] = "[domain-name:value = 'red.example']"
    db.execute("INSERT INTO taxii_objects (collection_id, stix_id, type, version, added_us, tlp, for_org, object) "
               "VALUES (?, ?, 'indicator', ?, (SELECT MAX(added_us) + 1 FROM taxii_objects), 'red', '', ?)",
               (coll, red["id"], red["modified"], json.dumps(red)))
    # a newer version of an indicator (same id, later modified): the last by default, the first or all on request
    v2 = json.loads(row[0])
    v2["modified"] = "2099-01-01T00:00:00.000Z"
    db.execute("INSERT INTO taxii_objects (collection_id, stix_id, type, version, added_us, tlp, for_org, object) "
               "VALUES (?, ?, 'indicator', ?, (SELECT MAX(added_us) + 1 FROM taxii_objects), 'amber', '', ?)",
               (coll, v2["id"], v2["modified"], json.dumps(v2)))
    db.commit()
    db.close()
    versions = {}
    for q in ("", "&match[version]=last", "&match[version]=first", "&match[version]=all"):
        st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/?match[id]=%s%s" % (coll, v2["id"], q), tok_b)
        versions[q] = sorted(o["modified"] for o in j.get("objects", []))
    expect(versions[""] == versions["&match[version]=last"] == ["2099-01-01T00:00:00.000Z"] and
           len(versions["&match[version]=first"]) == 1 and versions["&match[version]=first"] != versions[""] and
           len(versions["&match[version]=all"]) == 2, f"match[version]: {versions}")
    for who, tok in (("B", tok_b), ("C", tok_c), ("A's analyst", A.analyst)):
        st, j, _ = A.taxii("/taxii2/api/collections/%s/objects/" % coll, tok)
        expect(st == 200 and "red.example" not in json.dumps(j), f"TLP:RED is never served over TAXII ({who})")
    # A's audit log: who read what
    st, j, _, _ = A.c.req("GET", "/api/v1/audit", token=A.admin)
    evs = [e["event"] for e in j["events"]]
    reads = [e for e in evs if e["action"] == "taxii.objects" and e["actor"] == "partner orgb" and e["result"] == "ok"]
    shares = [e for e in evs if e["action"] == "report.share" and e["result"] == "ok"]
    refusals = [e for e in evs if e["action"] == "taxii.objects" and e["actor"] == "partner orgc" and
                e["result"] != "ok"]
    expect(reads and reads[0]["details"]["org"] == "Org B" and reads[0]["details"]["collection"] == coll and
           len(shares) == 2 and {s["details"]["tlp"] for s in shares} == {"amber", "amber+strict"} and
           shares[1]["details"]["org"] == "Org C" and refusals,
           f"taxii.objects and report.share in the audit log: {reads[:1]} {shares} {refusals[:1]}")

    # ---- B pulls A's collection; A's indicators make B's sample a threat ----
    tokfile = os.path.join(base, "a-token")
    open(tokfile, "w").write(tok_b + "\n")
    feed_url = "https://127.0.0.1:%d/taxii2/api/collections/%s/" % (A.port, coll)
    rc, out = B.cli("feed", "add", "from-a", "--url", "http://x/", "--token-file", tokfile, token=B.admin)
    expect(rc != 0 and "https URL of a TAXII 2.1 collection" in out, f"a feed URL is checked: {out}")
    B.cli("feed", "add", "from-a", "--url", feed_url, "--token-file", tokfile, "--partner-cacert", A.cert,
          "--interval-secs", "3600", token=B.admin, check=0)
    rc, out = B.cli("feed", "pull", "from-a", token=B.admin, check=0)
    expect("values known to triage" in out, f"bulwark feed pull: {out}")
    feeds = wait_for("B's first pull", lambda: (lambda j: j["feeds"][0]["last_pull_at"] and j)(
        B.c.req("GET", "/api/v1/feeds", token=B.admin)[1]))
    expect(feeds["feeds"][0]["values"] >= 3 and feeds["feeds"][0]["last_error"] == "",
           f"B knows A's values: {feeds}")
    expect("token" not in json.dumps(feeds) or tok_b not in json.dumps(feeds), "the feed's token is never shown")
    expect(tok_b.encode() not in open(os.path.join(B.data, "bulwark.db"), "rb").read(),
           "the feed's token is stored sealed")
    plain = lures.mail("catching up", "Hello, are you free for a call next week?",
                       sender="Anna <anna@careers-aero.example>")
    rb = B.report(plain)
    pr = [x for x in rb["triage"]["reasons"] if x["code"] == "partner_indicator"]
    expect(rb["verdict"] == "threat" and pr and "anna@careers-aero.example" in pr[0]["text"] and
           "feed from-a" in pr[0]["text"], f"B: a partner's indicator makes the mail a threat: {rb['triage']}")
    other = B.report(lures.mail("catching up", "Hello, are you free for a call next week?",
                                sender="Carl <carl@elsewhere.example>"))
    expect(other["verdict"] == "clean", f"the same mail from another sender stays clean: {other['verdict']}")

    # ---- and the other way: B shares what it confirmed, A pulls it on its schedule ----
    B.resolve(rb["id"])
    rc, out = B.cli("taxii", "collection", "add", "Confirmed at B", token=B.admin, check=0)
    coll_b = out.strip()
    rc, out = B.cli("partner", "add", "orga", "--org", "Org A", token=B.admin, check=0)
    tok_a = out.strip().splitlines()[-1]
    B.cli("taxii", "grant", coll_b, "orga", token=B.admin, check=0)
    B.cli("report", "share", str(rb["id"]), "--collection", coll_b, "--tlp", "green", token=B.analyst, check=0)
    open(tokfile, "w").write(tok_a)
    A.cli("feed", "add", "from-b", "--url", "https://127.0.0.1:%d/taxii2/api/collections/%s" % (B.port, coll_b),
          "--token-file", tokfile, "--partner-cacert", B.cert, "--interval-secs", "10", token=A.admin, check=0)
    fa = wait_for("A's scheduled pull of B", lambda: (lambda j: j["feeds"][0]["values"] > 0 and j)(
        A.c.req("GET", "/api/v1/feeds", token=A.admin)[1]), secs=40)
    expect(fa["feeds"][0]["name"] == "from-b" and fa["feeds"][0]["last_error"] == "", f"A pulled B: {fa}")
    ra = A.report(lures.mail("hello again", "Any news on my application?", sender="Anna <anna@careers-aero.example>"))
    expect(any(x["code"] == "partner_indicator" and "feed from-b" in x["text"] for x in ra["triage"]["reasons"]),
           f"A: B's indicator is a reason too: {ra['triage']['reasons']}")
    # a second share at B reaches A by the schedule alone (added_after the last pull)
    before = fa["feeds"][0]["values"]
    rb2 = B.report(lures.mail("Job offer", "Dear candidate, a recruiter's offer with a salary; skill test attached.",
                              sender="Recruit <jobs@hire-now.example>",
                              attachments=[("test.zip", "application/zip",
                                            lures.bsdtar("zip", {"Skill_Test.pdf.lnk": lures.lnk()}))]))
    B.resolve(rb2["id"])
    B.cli("report", "share", str(rb2["id"]), "--collection", coll_b, "--tlp", "clear", token=B.analyst, check=0)
    wait_for("A's next scheduled pull", lambda: A.c.req("GET", "/api/v1/feeds", token=A.admin)[1]["feeds"][0]["values"]
             > before, secs=40)
    st, j, _, _ = A.c.req("GET", "/api/v1/audit", token=A.admin)
    pulls = [e["event"] for e in j["events"] if e["event"]["action"] == "feed.pull"]
    expect(any(p["actor"] == "-" and p["target"] == "feed:from-b" for p in pulls),
           f"scheduled pulls are recorded as the server's: {pulls[:2]}")

    # ---- the specification's example envelope, from a plain HTTPS server ----
    class Example(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            ok = self.headers.get("Accept") == TAXII and self.headers.get("Authorization") == "Bearer example-token"
            body = open(os.path.join(KAT, "envelope.json"), "rb").read() if ok else b'{"title": "no"}'
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", TAXII)
            self.send_header("X-TAXII-Date-Added-Last", "2016-11-01T03:04:05.123456Z")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    fport = free_port()
    fake = http.server.ThreadingHTTPServer(("127.0.0.1", fport), Example)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(A.cert, os.path.join(A.data, "tls/key.pem"))
    fake.socket = ctx.wrap_socket(fake.socket, server_side=True)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    open(tokfile, "w").write("example-token")
    B.cli("feed", "add", "example", "--url", "https://127.0.0.1:%d/api1/collections/91a7b528-80eb-42ed-a74d-"
          "c6fbd5a26116/" % fport, "--token-file", tokfile, "--partner-cacert", A.cert, token=B.admin, check=0)
    rc, out = B.cli("feed", "pull", "example", token=B.admin, check=0)
    expect("4 indicators read, 3 values known to triage, 1 skipped" in out,
           f"the example envelope: the two SHA-256 and the URL indicators taken, the AND pattern skipped: {out}")
    fex = [f for f in B.c.req("GET", "/api/v1/feeds", token=B.admin)[1]["feeds"] if f["name"] == "example"][0]
    expect(fex["cursor"] == "2016-11-01T03:04:05.123456Z", f"the cursor is the last date added: {fex}")
    pdf_hash_sample = B.report(lures.pdf(), name="minutes.pdf")
    expect(pdf_hash_sample["verdict"] == "clean", "a clean PDF is not matched by anything")

    # ---- the reader of partners' pages offline (`feed read`), on hostile pages too: with `make check` under
    # valgrind memcheck as well (an unsanitised build: jansson is not instrumented) ----
    VG = os.environ.get("BULWARK_AGENT_VALGRIND")
    spec_env = open(os.path.join(KAT, "envelope.json"), "rb").read()
    hostile = {
        "spec": (spec_env, 0, "4 indicators: 3 values, 1 skipped"),
        "not json": (b'{"objects": [', 1, "not JSON"),
        "no type": (b'{"objects": [{"id": "indicator--1"}]}', 1, "objects[0] is not a STIX object with a type"),
        "objects not a list": (b'{"objects": {"type": "indicator"}}', 1, "objects is not an array"),
        "more without next": (b'{"more": true, "objects": []}', 1, "more without next"),
        "duplicate keys": (b'{"more": false, "more": true}', 1, "not JSON"),
        "no pattern": (b'{"objects": [{"type": "indicator", "id": "indicator--1"}]}', 1, "needs pattern"),
        "bad pattern": (b'{"objects": [{"type": "indicator", "id": "indicator--1", "pattern_type": "stix", '
                        b'"pattern": "[url:value = \'http://unclosed]"}]}', 0, "1 indicators: 0 values, 1 skipped"),
        "deep": (b'{"objects": [' + b'[' * 5000 + b']' * 5000 + b']}', 1, "envelope: "),
        "revoked": (b'{"objects": [{"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "revoked": true, '
                    b'"pattern": "[domain-name:value = \'a.example\']"}]}', 0,
                    "0 values, 0 skipped (patterns triage does not match), 1 revoked"),
        "yara": (b'{"objects": [{"type": "indicator", "id": "indicator--1", "pattern_type": "yara", '
                 b'"pattern": "rule a { condition: true }"}]}', 0, "0 values, 1 skipped"),
    }
    for name, (page, want_rc, want) in hostile.items():
        path = os.path.join(base, "page.json")
        open(path, "wb").write(page)
        for binary in [BW] + ([VG] if VG else []):
            cmd = [binary, "feed", "read", path]
            if binary == VG:
                cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite"] + cmd
            p = subprocess.run(cmd, capture_output=True, timeout=300)
            out = p.stdout.decode() + p.stderr.decode()
            expect(p.returncode == want_rc and want in out,
                   f"feed read, {name}{' under valgrind' if binary == VG else ''}: exit {p.returncode}, want "
                   f"{want_rc} and {want!r}: {out[-2000:]}")

    # ---- revocation takes effect at once; the pull says so ----
    A.cli("partner", "revoke", "orgb", token=A.admin, check=0)
    st, j, _ = A.taxii("/taxii2/", tok_b)
    expect(st == 401, f"a revoked partner's token is refused: {st}")
    rc, out = B.cli("feed", "pull", "from-a", token=B.admin)
    expect(rc == 1 and "HTTP 401" in out, f"B's pull of A fails with the reason: {out}")
    rc, out = B.cli("feed", "list", token=B.admin, check=0)
    expect("from-a" in out and "error: HTTP 401" in out, f"bulwark feed list shows it: {out}")
    rc, out = A.cli("partner", "list", token=A.admin, check=0)
    expect(any(l.startswith("orgb\tOrg B\trevoked") for l in out.splitlines()) and "orgc\tOrg C\tactive" in out,
           f"bulwark partner list: {out}")
    # partners are not staff: a partner token opens no staff route
    st, j, _, _ = A.c.req("GET", "/api/v1/reports/mine", token=tok_c)
    expect(st == 403, f"a partner's token is not a user's: {st}")
    st, j, _, _ = A.c.req("GET", "/api/v1/hosts", token=tok_c)
    expect(st == 403, f"nor sees hosts: {st}")

    # a partner that accepts and never answers does not hold up B's shutdown (the pull in progress ends)
    import socket
    import time
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(4)
    B.cli("feed", "add", "hangs", "--url", "https://127.0.0.1:%d/taxii2/api/collections/x/" % hang.getsockname()[1],
          "--token-file", tokfile, "--interval-secs", "10", token=B.admin, check=0)
    conn_ = wait_for("B's scheduled pull connecting to the silent partner", lambda: hang.accept(), secs=20)
    t0 = time.time()
    stop(B.srv)
    took = time.time() - t0
    B.srv = None
    expect(took < 5, f"B stops promptly while a pull hangs ({took:.1f} s; a connection may take 10 s, a page 30 s)")
    conn_[0].close()
    hang.close()
finally:
    if fake is not None:
        fake.shutdown()
    for s in (A, B):
        try:
            if s.srv is not None:
                stop(s.srv)
        except Exception as e:  # noqa: BLE001 - the test's own failure is the one to report
            print("stopping:", e)

finish("taxii_test")
