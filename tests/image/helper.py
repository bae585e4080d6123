"""Small helpers of tests/image/image-test.sh (standard library only).

    helper.py ports N                     N free TCP ports of 127.0.0.1
    helper.py url URL HOST [DATABASE]     URL with its host 127.0.0.1 replaced
                                          by HOST, and its database by DATABASE
    helper.py drop-streams URL PREFIX     delete the JetStream streams of a bus
                                          prefix (raw NATS protocol)
    helper.py dns ADDRESS NAME IP         answer DNS queries on ADDRESS:53 (UDP):
                                          NAME has the A record IP, other names
                                          do not exist; prints each question
    helper.py json-lines FILE             exit 0 if FILE has lines and each is a
                                          JSON object
"""

import json
import os
import socket
import struct
import sys
import urllib.parse


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


def url(raw: str, host: str, database: str | None) -> int:
    u = urllib.parse.urlsplit(raw)
    if u.hostname in ("127.0.0.1", "localhost"):
        userinfo = u.netloc.rpartition("@")[0]
        hostport = host + (f":{u.port}" if u.port else "")
        u = u._replace(netloc=(userinfo + "@" if userinfo else "") + hostport)
    if database is not None:
        u = u._replace(path="/" + database)
    print(urllib.parse.urlunsplit(u))
    return 0


class Nats:
    """Just enough of the NATS protocol for JetStream API requests."""

    def __init__(self, raw: str):
        first = raw.split(",")[0]
        u = urllib.parse.urlsplit(first if "://" in first else "nats://" + first)
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 4222), timeout=10)
        self.f = self.sock.makefile("rb")
        if not self.f.readline().startswith(b"INFO "):
            raise SystemExit(f"{raw} is not a NATS server")
        opts = {"verbose": False, "pedantic": False, "name": "scimbus-image-test",
                "lang": "python", "version": "0", "protocol": 1, "headers": True}
        if u.username and u.password is not None:
            opts["user"] = urllib.parse.unquote(u.username)
            opts["pass"] = urllib.parse.unquote(u.password)
        elif u.username:
            opts["auth_token"] = urllib.parse.unquote(u.username)
        self.inbox = f"_INBOX.imagetest{os.getpid()}"
        self.sock.sendall(f"CONNECT {json.dumps(opts)}\r\nSUB {self.inbox} 1\r\n".encode())

    def request(self, subject: str, payload: dict) -> dict:
        body = json.dumps(payload).encode()
        self.sock.sendall(f"PUB {subject} {self.inbox} {len(body)}\r\n".encode() + body + b"\r\n")
        while True:
            line = self.f.readline()
            if not line:
                raise SystemExit("NATS closed the connection")
            if line.startswith(b"PING"):
                self.sock.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise SystemExit(f"NATS: {line.decode().strip()}")
            elif line.startswith((b"MSG ", b"HMSG ")):
                parts = line.split()
                data = self.f.read(int(parts[-1]) + 2)[:-2]
                if parts[0] == b"HMSG":
                    data = data[int(parts[-2]):]
                return json.loads(data or b"{}")


def drop_streams(raw: str, prefix: str) -> int:
    stream_prefix = prefix.upper().replace("-", "_") + "_SCIMBUS_"
    nats = Nats(raw)
    names, offset = [], 0
    while True:
        page = nats.request("$JS.API.STREAM.NAMES", {"offset": offset})
        found = page.get("streams") or []
        names += [n for n in found if n.startswith(stream_prefix)]
        offset += len(found)
        if not found or offset >= page.get("total", 0):
            break
    for name in names:
        nats.request(f"$JS.API.STREAM.DELETE.{name}", {})
    print(" ".join(names))
    return 0


def dns(address: str, name: str, ip: str) -> int:
    want = name.lower().rstrip(".")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 53))
    print(f"listening {address}:53", flush=True)
    while True:
        query, peer = sock.recvfrom(512)
        if len(query) < 12:
            continue
        qid, flags, qdcount = struct.unpack("!HHH", query[:6])
        labels, at = [], 12
        while at < len(query) and query[at] != 0:
            n = query[at]
            labels.append(query[at + 1:at + 1 + n].decode("ascii", "replace"))
            at += 1 + n
        at += 1
        if qdcount != 1 or at + 4 > len(query):
            continue
        qtype, _qclass = struct.unpack("!HH", query[at:at + 4])
        question = query[12:at + 4]
        qname = ".".join(labels).lower()
        kind = {1: "A", 28: "AAAA"}.get(qtype, str(qtype))
        print(f"{kind} {qname}", flush=True)
        # QR, the query's opcode and RD, AA, RA
        out_flags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080
        answers = b""
        count = 0
        if qname != want:
            out_flags |= 3  # NXDOMAIN
        elif qtype == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) + socket.inet_aton(ip)
            count = 1
        header = struct.pack("!HHHHHH", qid, out_flags, 1, count, 0, 0)
        sock.sendto(header + question + answers, peer)


def json_lines(path: str) -> int:
    n = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                if not isinstance(json.loads(line), dict):
                    raise ValueError("not an object")
            except ValueError as e:
                print(f"not a JSON object ({e}): {line[:200]}", file=sys.stderr)
                return 1
            n += 1
    if n == 0:
        print("no log lines", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    match argv:
        case ["ports", n]:
            return ports(int(n))
        case ["url", raw, host]:
            return url(raw, host, None)
        case ["url", raw, host, database]:
            return url(raw, host, database)
        case ["drop-streams", raw, prefix]:
            return drop_streams(raw, prefix)
        case ["dns", address, name, ip]:
            return dns(address, name, ip)
        case ["json-lines", path]:
            return json_lines(path)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
