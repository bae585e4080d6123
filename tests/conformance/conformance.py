"""Helpers of tests/conformance/run.sh (run with the conformance venv's python).

    conformance.py check BASE_URL          run scim2-tester; token from $SCIMBUS_CONFORMANCE_TOKEN
    conformance.py ports N                 print N free TCP ports on 127.0.0.1
    conformance.py db-url URL NAME         URL with its database replaced by NAME
    conformance.py drop-streams URL PREFIX delete the JetStream streams of a bus prefix

`check` prints one line per check and closes with
`conformance: N passed, N failed, N skipped`; it exits 1 if any check failed.
"""

import json
import os
import socket
import sys
import time
import urllib.parse

# Checks that are wrong about the RFCs and are skipped, by tag (scim2-tester
# can only leave checks out by tag: check_server(exclude_tags=...)). Each
# entry is explained, with its RFC citation, in run.sh and README.md.
EXCLUDE_TAGS: set[str] = set()

# scim2-tester's statuses: SUCCESS (a MUST is met), COMPLIANT (a SHOULD is
# met), ACCEPTABLE (a MAY, or reasonable robustness) pass; DEVIATION (a
# SHOULD is not met) is reported as a warning; ERROR (a MUST is broken) and
# CRITICAL fail; SKIPPED did not run (a tag filter or a missing prerequisite).
PASSED = {"SUCCESS", "COMPLIANT", "ACCEPTABLE"}
WARNED = {"DEVIATION"}
FAILED = {"ERROR", "CRITICAL"}


def check(base_url: str) -> int:
    from httpx2 import Client
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import check_server

    token = os.environ["SCIMBUS_CONFORMANCE_TOKEN"]
    http = Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    started = time.monotonic()
    results = check_server(SyncSCIMClient(http), exclude_tags=EXCLUDE_TAGS or None)
    took = time.monotonic() - started

    counts = {"passed": 0, "warned": 0, "failed": 0, "skipped": 0}
    details = []
    lines: list[list] = []  # [text, repeats]; passing repeats are folded
    for r in results:
        name = r.status.name
        kind = (
            "passed" if name in PASSED
            else "warned" if name in WARNED
            else "failed" if name in FAILED
            else "skipped"
        )
        counts[kind] += 1
        where = f"[{r.resource_type}] " if r.resource_type else ""
        text = f"  {name:<10} {where}{r.title}"
        if kind == "passed" and lines and lines[-1][0] == text:
            lines[-1][1] += 1
            continue
        if r.reason and kind != "passed":
            text += f": {r.reason}"
        lines.append([text, 1])
        if kind in ("failed", "warned") and r.data is not None:
            details.append((name, where, r.title, r.data))
    for text, n in lines:
        print(text + (f" (x{n})" if n > 1 else ""))
    for name, where, title, data in details:
        text = data if isinstance(data, str) else repr(data)
        if len(text) > 2000:
            text = text[:2000] + "…"
        print(f"\n--- {name} {where}{title}\n{text}")
    print(f"\nscim2-tester ran {len(results)} checks in {took:.1f} s")
    if counts["warned"]:
        print(f"conformance: {counts['warned']} deviations from a SHOULD (warnings, listed above)")
    print(
        f"conformance: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped"
    )
    return 1 if counts["failed"] or not counts["passed"] else 0


def ports(n: int) -> int:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()
    return 0


def db_url(url: str, name: str) -> int:
    u = urllib.parse.urlsplit(url)
    print(urllib.parse.urlunsplit(u._replace(path="/" + name)))
    return 0


def drop_streams(url: str, prefix: str) -> int:
    """Deletes <PREFIX>_SCIMBUS_{CMD,CHANGES,DLQ} through the JetStream API
    (raw NATS protocol, so that no NATS client library is needed)."""
    stream_prefix = prefix.upper().replace("-", "_") + "_SCIMBUS_"
    u = urllib.parse.urlsplit(url.split(",")[0] if "://" in url else "nats://" + url)
    sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 4222), timeout=5)
    f = sock.makefile("rb")
    if not f.readline().startswith(b"INFO "):
        raise SystemExit(f"{url} is not a NATS server")
    opts = {"verbose": False, "pedantic": False, "name": "scimbus-conformance",
            "lang": "python", "version": "0", "protocol": 1, "headers": True}
    if u.username and u.password is not None:
        opts["user"] = urllib.parse.unquote(u.username)
        opts["pass"] = urllib.parse.unquote(u.password)
    elif u.username:
        opts["auth_token"] = urllib.parse.unquote(u.username)
    inbox = f"_INBOX.conformance{os.getpid()}"
    sock.sendall(f"CONNECT {json.dumps(opts)}\r\nSUB {inbox} 1\r\n".encode())
    for name in ("CMD", "CHANGES", "DLQ"):
        subject = f"$JS.API.STREAM.DELETE.{stream_prefix}{name}"
        sock.sendall(f"PUB {subject} {inbox} 0\r\n\r\n".encode())
        while True:
            line = f.readline()
            if not line:
                raise SystemExit("NATS closed the connection")
            if line.startswith(b"PING"):
                sock.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise SystemExit(f"NATS: {line.decode().strip()}")
            elif line.startswith((b"MSG ", b"HMSG ")):
                f.read(int(line.split()[-1]) + 2)
                break
    sock.close()
    return 0


def main(argv: list[str]) -> int:
    match argv:
        case ["check", base]:
            return check(base)
        case ["ports", n]:
            return ports(int(n))
        case ["db-url", url, name]:
            return db_url(url, name)
        case ["drop-streams", url, prefix]:
            return drop_streams(url, prefix)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
