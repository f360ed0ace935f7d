#!/usr/bin/env python3
"""A stub provider for bench/run.sh: speaks enough of OpenAI's Chat Completions API and of seed 004's
PDF -> XML gateway to load Caravan the way a slow real provider does, and counts what it receives.

  python3 bench/stub_provider.py PORT [--delay SECONDS | --spread LOW HIGH] [--drip] [--tpm TOKENS]

  POST /v1/chat/completions   answers a valid chat completion (JSON content) after --delay seconds;
                              (with --spread: a delay drawn uniformly from LOW to HIGH seconds, the
                              same sequence every run; /stats reports the mean of those drawn);
                              with --drip: sends the headers, then the body one byte a second;
                              a prompt holding "bench-warm-up" is answered at once (warm-up jobs);
                              with --tpm: enforces a budget of TOKENS per minute (sliding: the
                              tokens of the calls that arrived in the last 60 s), as OpenAI does:
                              a call's tokens are its prompt (message text, 4 characters a token)
                              and 150 of answer; a call beyond the budget is answered 429 with
                              retry-after-ms; every answer has x-ratelimit-*-tokens headers
  POST /v1/files              OpenAI's Files API (multipart, purpose "batch"): the file is kept in memory
  POST /v1/batches            OpenAI's Batches API: a batch is in_progress for --batch-seconds (2), then
  GET  /v1/batches/<id>       completed, each input line answered with a chat completion in its output
  GET  /v1/files/<id>/content file ({"custom_id", "response": {"status_code": 200, "body"}}); /stats counts
                              "batches" and "batch_lines" (and "batch_max_lines", the largest batch)
  POST /process               reads the multipart upload to its end, then answers well-formed XML
                              about as large as the upload (X-Stub-Xml-Bytes overrides the size)
  GET  /doc/<N>mb.pdf          a PDF-looking document of N MB (for file_url), streamed
  GET  /stats                 {"calls", "in_flight", "peak_in_flight", "bytes_received", "delay_total",
                               "tokens", "refused"} (tokens served, calls answered 429), and
                               "arrived", "answered": when each delayed chat call came and was
                               answered (seconds since the epoch, in order)
  POST /reset                 zeroes the counters

Standard library only (asyncio), one process, so thousands of calls can wait at once.
"""
import asyncio
import random
import json
import sys
import time

TIMES = {"arrived": [], "answered": []}  # of the delayed chat calls, for /stats
stats = {"calls": 0, "in_flight": 0, "peak_in_flight": 0, "bytes_received": 0, "delay_total": 0.0,
         "tokens": 0, "refused": 0, "batches": 0, "batch_lines": 0, "batch_max_lines": 0}
FILES = {}    # the Files API's files, by id
BATCHES = {}  # the Batches API's batches, by id
BATCH_SECONDS = 2.0
TPM = None
WINDOW = []  # (arrived, tokens) of the calls of the last minute
ANSWER_TOKENS = 150
ARRIVALS = None  # --arrivals FILE: one line per chat call, "seconds tokens status"
DELAY = 2.0
SPREAD = None
RANDOM = random.Random(28)
DRIP = False
WARM_UP = b"bench-warm-up"  # a chat call whose prompt holds this is answered at once (bench/run.sh's warm-up)

ANSWER = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "model": "bench-model",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": json.dumps({
                     "document_type": "other", "summary": "bench", "confidence": 0.9,
                     "patient_name": None, "document_date": None, "key_findings": []})}}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
}).encode()


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return method, path, headers


async def drain_body(reader, headers):
    """Reads the request body to its end without keeping it; returns its length."""
    total = 0
    if "content-length" in headers:
        left = int(headers["content-length"])
        while left > 0:
            chunk = await reader.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)
            total += len(chunk)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            left = size
            while left > 0:
                chunk = await reader.read(min(left, 1 << 16))
                left -= len(chunk)
            total += size
            await reader.readexactly(2)
    return total


def respond(writer, status, body, content_type="application/json", extra=""):
    writer.write(b"HTTP/1.1 %d OK\r\nContent-Type: %s\r\n%sContent-Length: %d\r\n\r\n"
                 % (status, content_type.encode(), extra.encode(), len(body)) + body)


async def read_body(reader, headers):
    return await reader.readexactly(int(headers.get("content-length", "0")))


def budget(body, loop_time):
    """--tpm: (status, extra headers, answer) for a chat completion request of this body."""
    request = json.loads(body)
    chars = 0
    for m in request.get("messages", []):
        c = m.get("content")
        chars += len(c) if isinstance(c, str) else sum(len(p.get("text", "")) for p in c or [])
    prompt = (chars + 3) // 4
    tokens = prompt + ANSWER_TOKENS
    while WINDOW and WINDOW[0][0] <= loop_time - 60:
        WINDOW.pop(0)
    used = sum(t for _, t in WINDOW)
    if used + tokens > TPM:
        freed, at = 0, loop_time
        for arrived, t in WINDOW:
            freed += t
            at = arrived + 60
            if used - freed + tokens <= TPM:
                break
        stats["refused"] += 1
        if ARRIVALS:
            ARRIVALS.write("%.3f %d 429\n" % (loop_time, tokens))
            ARRIVALS.flush()
        wait_ms = max(1, int((at - loop_time) * 1000))
        extra = ("retry-after-ms: %d\r\nretry-after: %d\r\nx-ratelimit-limit-tokens: %d\r\n"
                 "x-ratelimit-remaining-tokens: %d\r\nx-ratelimit-reset-tokens: %dms\r\n"
                 % (wait_ms, (wait_ms + 999) // 1000, TPM, max(0, TPM - used), 60000))
        return 429, extra, json.dumps({"error": {"message": "Rate limit reached on tokens per min (TPM): Limit %d,"
                                                 " Used %d, Requested %d." % (TPM, used, tokens),
                                                 "type": "tokens", "code": "rate_limit_exceeded"}}).encode()
    WINDOW.append((loop_time, tokens))
    stats["tokens"] += tokens
    if ARRIVALS:
        ARRIVALS.write("%.3f %d 200\n" % (loop_time, tokens))
        ARRIVALS.flush()
    extra = ("x-ratelimit-limit-tokens: %d\r\nx-ratelimit-remaining-tokens: %d\r\nx-ratelimit-reset-tokens: %dms\r\n"
             % (TPM, TPM - used - tokens, 60000))
    answer = json.loads(ANSWER)
    answer["usage"] = {"prompt_tokens": prompt, "completion_tokens": ANSWER_TOKENS, "total_tokens": tokens}
    return 200, extra, json.dumps(answer).encode()


async def xml_answer(writer, size):
    """Well-formed XML of about size bytes, written in chunks so the stub holds little of it."""
    head, tail = b"<?xml version=\"1.0\"?>\n<document>\n", b"</document>\n"
    line = b"  <line>" + b"x" * 100 + b"</line>\n"
    count = max(0, (size - len(head) - len(tail)) // len(line))
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n"
                 % (len(head) + count * len(line) + len(tail)))
    writer.write(head)
    block = line * 512
    while count > 0:
        n = min(count, 512)
        writer.write(block if n == 512 else line * n)
        count -= n
        await writer.drain()
    writer.write(tail)


async def document(writer, mb):
    size = mb * 1024 * 1024
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: %d\r\n\r\n" % (size + 9))
    writer.write(b"%PDF-1.4\n")
    block = bytes(range(256)) * 256
    for _ in range(size // len(block)):
        writer.write(block)
        await writer.drain()


def file_part(body, content_type):
    """The content of the multipart part named "file"."""
    boundary = b"--" + content_type.split("boundary=", 1)[1].split(";")[0].strip('"').encode()
    part = body.index(b'name="file"')
    start = body.index(b"\r\n\r\n", part) + 4
    return body[start:body.index(b"\r\n" + boundary, start)]


def batch_api(method, path, headers, body, now):
    """OpenAI's Files and Batches APIs, enough for Caravan's batch lane: (status, answer)."""
    if method == "POST" and path.endswith("/files"):
        fid = "file-%d" % (len(FILES) + 1)
        FILES[fid] = file_part(body, headers["content-type"])
        return 200, {"id": fid, "object": "file", "bytes": len(FILES[fid]), "purpose": "batch"}
    if method == "POST" and path.endswith("/batches"):
        request = json.loads(body)
        bid = "batch_%d" % (len(BATCHES) + 1)
        lines = FILES[request["input_file_id"]].count(b"\n")
        BATCHES[bid] = {"id": bid, "object": "batch", "endpoint": request["endpoint"], "input_file_id": request["input_file_id"],
                        "completion_window": request["completion_window"], "status": "in_progress", "output_file_id": None,
                        "error_file_id": None, "errors": None, "created": now,
                        "request_counts": {"total": lines, "completed": 0, "failed": 0}}
        stats["batches"] += 1
        stats["batch_lines"] += lines
        stats["batch_max_lines"] = max(stats["batch_max_lines"], lines)
        return 200, BATCHES[bid]
    if method == "GET" and "/batches/" in path:
        b = BATCHES.get(path.rsplit("/", 1)[1])
        if b is None:
            return 404, {"error": {"message": "No batch found"}}
        if b["status"] == "in_progress" and now - b["created"] >= BATCH_SECONDS:
            out = []
            for line in FILES[b["input_file_id"]].splitlines():
                if line.strip():
                    custom_id = json.loads(line)["custom_id"]
                    out.append(b'{"custom_id": "%s", "response": {"status_code": 200, "body": %s}, "error": null}'
                               % (custom_id.encode(), ANSWER))
            fid = "file-%d" % (len(FILES) + 1)
            FILES[fid] = b"\n".join(out) + b"\n"
            b.update(status="completed", output_file_id=fid)
            b["request_counts"]["completed"] = len(out)
        return 200, b
    return 404, {"error": {"message": "no such route"}}


async def handle(reader, writer):
    try:
        while True:
            try:
                method, path, headers = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if path.startswith("/doc/"):
                await drain_body(reader, headers)
                await document(writer, int(path[len("/doc/"):].split("mb")[0]))
            elif path == "/stats":
                await drain_body(reader, headers)
                respond(writer, 200, json.dumps({**stats, **TIMES}).encode())
            elif "/files" in path or "/batches" in path:
                body = await read_body(reader, headers)
                if method == "GET" and path.endswith("/content"):
                    content = FILES.get(path.split("/")[-2])
                    respond(writer, 200 if content is not None else 404, content or b"", "application/jsonl")
                else:
                    status, answer = batch_api(method, path, headers, body, asyncio.get_running_loop().time())
                    respond(writer, status, json.dumps(answer).encode())
            elif path == "/reset":
                await drain_body(reader, headers)
                stats.update(calls=0, in_flight=0, peak_in_flight=0, bytes_received=0, delay_total=0.0, tokens=0, refused=0)
                TIMES["arrived"].clear()
                TIMES["answered"].clear()
                respond(writer, 200, b"{}")
            else:
                stats["calls"] += 1
                stats["in_flight"] += 1
                stats["peak_in_flight"] = max(stats["peak_in_flight"], stats["in_flight"])
                try:
                    if TPM and path.endswith("/chat/completions"):
                        body = await read_body(reader, headers)
                        stats["bytes_received"] += len(body)
                        status, extra, answer = budget(body, asyncio.get_running_loop().time())
                        if status == 200:
                            delay = RANDOM.uniform(*SPREAD) if SPREAD else DELAY
                            stats["delay_total"] += delay
                            await asyncio.sleep(delay)
                        respond(writer, status, answer, extra=extra)
                        await writer.drain()
                        continue
                    if path.endswith("/chat/completions") and "content-length" in headers:
                        body = await read_body(reader, headers)
                        received = len(body)
                    else:
                        body = b""
                        received = await drain_body(reader, headers)
                    stats["bytes_received"] += received
                    if path.endswith("/process"):
                        size = int(headers.get("x-stub-xml-bytes", received))
                        await xml_answer(writer, size)
                    elif WARM_UP in body:
                        respond(writer, 200, ANSWER)
                    else:
                        TIMES["arrived"].append(round(time.time(), 4))
                        delay = RANDOM.uniform(*SPREAD) if SPREAD else DELAY
                        stats["delay_total"] += delay
                        await asyncio.sleep(delay)
                        TIMES["answered"].append(round(time.time(), 4))
                        if DRIP:
                            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                         b"Content-Length: %d\r\n\r\n" % len(ANSWER))
                            for i in range(len(ANSWER)):
                                writer.write(ANSWER[i:i + 1])
                                await writer.drain()
                                await asyncio.sleep(1)
                        else:
                            respond(writer, 200, ANSWER)
                finally:
                    stats["in_flight"] -= 1
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096, limit=1 << 20)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    args = sys.argv[1:]
    port = int(args[0])
    if "--delay" in args:
        DELAY = float(args[args.index("--delay") + 1])
    if "--spread" in args:
        i = args.index("--spread")
        SPREAD = (float(args[i + 1]), float(args[i + 2]))
    DRIP = "--drip" in args
    if "--batch-seconds" in args:
        BATCH_SECONDS = float(args[args.index("--batch-seconds") + 1])
    if "--tpm" in args:
        TPM = int(args[args.index("--tpm") + 1])
    if "--arrivals" in args:
        ARRIVALS = open(args[args.index("--arrivals") + 1], "a")
    asyncio.run(main(port))
