#!/usr/bin/env python3
"""Hostile traffic against a running Caravan's API while a well-behaved client keeps working (issue 27).

  python3 bench/hostile.py PORT KEY [SECONDS [BATCH_CLIENTS [TYPE [MIX]]]] [--summary]

For SECONDS (default 30), at once:
  - unauthenticated 100 MiB POSTs to /api/jobs/batch, one after another (2 clients);
  - authenticated batches of the largest accepted size (API_BATCH_MAX_BODY_BYTES, 4 MiB), 8 at a time;
  - 20 connections that stall mid-headers or mid-body, opened again as the server closes them;
  - request smuggling (Content-Length with Transfer-Encoding), a broken HTTP/2 preface, a key in the URL;
and one normal client: POST /api/jobs, then GET /api/jobs/{id} of it, in turn, timing each answer.
Prints the normal client's p50 / p99 / max (ms), every status the hostile clients got, and the
count of 5xx answers and failed normal requests (both must be 0). Standard library only.
"""
import http.client
import json
import socket
import sys
import threading
import time
from collections import Counter

PORT, KEY = int(sys.argv[1]), sys.argv[2]
SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 30
BATCHERS = int(sys.argv[4]) if len(sys.argv) > 4 else 2
# jobs of a type no worker runs (bench_held, registered by run.sh): the workers stay idle, so the figures are the API's own
TYPE = sys.argv[5] if len(sys.argv) > 5 else "bench_held"
END = time.time() + SECONDS
statuses = Counter()
lock = threading.Lock()


def count(what):
    with lock:
        statuses[what] += 1


def request(method, path, body=None, headers=None, timeout=120):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def unauthenticated_huge():
    body = b"a" * (100 << 20)
    while time.time() < END:
        try:
            count(("unauth 100 MiB", request("POST", "/api/jobs/batch", body, {"Content-Type": "application/json"})))
        except Exception as e:
            count(("unauth 100 MiB", type(e).__name__))


def big_batches():
    job = {"type": TYPE, "payload": {"note": "x" * 4000}}
    jobs, size = [], 2
    while size < 4 * 1024 * 1024 - 5000:
        jobs.append(job)
        size += len(json.dumps(job)) + 2
    body = json.dumps(jobs[:1000]).encode()
    while time.time() < END:
        try:
            s = request("POST", "/api/jobs/batch", body, {"Content-Type": "application/json",
                                                          "Authorization": "Bearer " + KEY})
            count(("4 MiB batch", s))
        except Exception as e:
            count(("4 MiB batch", type(e).__name__))


def stall(mid_body):
    while time.time() < END:
        s = socket.create_connection(("127.0.0.1", PORT))
        s.settimeout(1)
        if mid_body:
            s.sendall(b"POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode()
                      + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"t")
        else:
            s.sendall(b"POST /api/jobs HTTP/1.1\r\nHost: x\r\n")
        while time.time() < END:
            try:
                if not s.recv(1000):
                    count(("stalled connection closed by the server", "mid-body" if mid_body else "mid-headers"))
                    break
            except socket.timeout:
                pass
            except OSError:
                break
        s.close()


def oddities():
    inner = b'POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + KEY.encode() \
        + b'\r\nContent-Type: application/json\r\nContent-Length: 38\r\n\r\n{"type":"audit_cleanup","payload":{}}\n'
    body = b"0\r\n\r\n" + inner
    smuggle = (b"POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(body)).encode()
               + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    while time.time() < END:
        for raw, name in ((smuggle, "smuggling"), (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\0" * 24, "h2 preface")):
            try:
                s = socket.create_connection(("127.0.0.1", PORT))
                s.settimeout(5)
                s.sendall(raw)
                first = s.recv(100).split(b"\r\n")[0]
                count((name, first.decode(errors="replace")))
                s.close()
            except Exception as e:
                count((name, type(e).__name__))
        try:
            count(("key in URL", request("GET", "/api/queues?%41uthorization=Bearer%20" + KEY)))
        except Exception as e:
            count(("key in URL", type(e).__name__))
        time.sleep(0.2)


latencies, failures = [], Counter()


def normal():
    """A client doing what clients do: submit a job, read it back; both O(1) whatever the table holds."""
    n, last = 0, None
    while time.time() < END:
        n += 1
        t = time.time()
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            if last and n % 2 == 0:
                c.request("GET", "/api/jobs/" + last, headers={"Authorization": "Bearer " + KEY})
            else:
                c.request("POST", "/api/jobs", json.dumps({"type": TYPE, "payload": {"n": n}}),
                          {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
            r = c.getresponse()
            body = r.read()
            c.close()
            latencies.append((time.time() - t) * 1000)
            if r.status == 202:
                last = json.loads(body)["id"]
            elif r.status != 200:
                failures[r.status] += 1
        except Exception as e:
            failures[type(e).__name__] += 1
        time.sleep(0.05)


ONLY = set(sys.argv[6].split(",")) if len(sys.argv) > 6 else {"huge", "batches", "stalls", "oddities"}
threads = [threading.Thread(target=unauthenticated_huge) for _ in range(2 if "huge" in ONLY else 0)] \
    + [threading.Thread(target=big_batches) for _ in range(BATCHERS if "batches" in ONLY else 0)] \
    + [threading.Thread(target=stall, args=(i % 2 == 0,)) for i in range(20 if "stalls" in ONLY else 0)] \
    + [threading.Thread(target=oddities) for _ in range(1 if "oddities" in ONLY else 0)] + [threading.Thread(target=normal)]
for t in threads:
    t.daemon = True
    t.start()
for t in threads:
    t.join(SECONDS + 180)
lat = sorted(latencies)
p = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None
fives = sum(v for (k, s), v in statuses.items() if isinstance(s, int) and 500 <= s < 600 and s != 503)
result = {"normal": {"requests": len(lat), "p50_ms": p(0.5), "p99_ms": p(0.99), "max_ms": round(max(lat), 1) if lat else None,
                     "failed": dict(failures)},
          "hostile": {f"{k}: {s}": v for (k, s), v in sorted(statuses.items(), key=str)},
          "5xx_other_than_503": fives}
if "--summary" in sys.argv:
    n = result["normal"]
    print(f"{n['p50_ms']} / {n['p99_ms']} / {n['max_ms']} ms over {n['requests']} requests, failed {n['failed'] or 0};"
          f" 5xx (not 503): {fives}; hostile answers: " + ", ".join(f"{k} ×{v}" for k, v in result["hostile"].items()))
else:
    print(json.dumps(result, indent=1))
