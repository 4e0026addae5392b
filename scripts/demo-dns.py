#!/usr/bin/env python3
"""A throw-away DNS server on loopback (UDP), for trying the DNS check without a resolver of your own.

Answers A queries for the names given with --record and NXDOMAIN for anything else; nothing is forwarded, so it
never sends a packet beyond the machine. scripts/quickstart.sh uses it to time the README's DNS quick start.

    scripts/demo-dns.py --port 5353 --record sip.example.test=192.0.2.10,192.0.2.11
    # then: "nameservers": ["127.0.0.1:5353"]  (UI: Nameservers box; CLI: --nameserver 127.0.0.1:5353)
"""
import argparse
import ipaddress
import socket
import struct

TYPE_A, CLASS_IN, TTL = 1, 1, 60
NOERROR, NXDOMAIN, NOTIMP = 0, 3, 4


def question(packet):
    """(name, qtype, end offset) of the first question; names in queries are never compressed."""
    labels, i = [], 12
    while packet[i]:
        labels.append(packet[i + 1:i + 1 + packet[i]].decode("ascii", "replace").lower())
        i += 1 + packet[i]
    qtype, _ = struct.unpack("!HH", packet[i + 1:i + 5])
    return ".".join(labels), qtype, i + 5


def answer(packet, records):
    ident, flags = struct.unpack("!HH", packet[:4])
    name, qtype, end = question(packet)
    addresses = records.get(name.rstrip("."))
    if flags & 0x7800:  # an opcode other than QUERY
        rcode, addresses = NOTIMP, []
    elif addresses is None:
        rcode, addresses = NXDOMAIN, []
    else:
        rcode = NOERROR
        addresses = addresses if qtype == TYPE_A else []  # the name exists, with no record of that type
    header = struct.pack("!HHHHHH", ident, 0x8400 | (flags & 0x0100) | 0x0080 | rcode, 1, len(addresses), 0, 0)
    body = packet[12:end]
    for address in addresses:
        # 0xc00c points at the question's name; then type, class, TTL, length and the four address bytes.
        body += struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, TTL, 4) + ipaddress.IPv4Address(address).packed
    return header + body


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1", help="listen address (loopback by default)")
    parser.add_argument("--port", type=int, default=5353)
    parser.add_argument("--record", action="append", default=[], metavar="NAME=IP[,IP...]", help="an A record set (repeatable)")
    args = parser.parse_args()
    records = {}
    for record in args.record:
        name, _, values = record.partition("=")
        records[name.lower().rstrip(".")] = [v.strip() for v in values.split(",") if v.strip()]
        for value in records[name.lower().rstrip(".")]:
            ipaddress.IPv4Address(value)  # refuse a bad address at start, not per query

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.address, args.port))
    print(f"demo DNS on {args.address}:{sock.getsockname()[1]} with {len(records)} names", flush=True)
    while True:
        packet, client = sock.recvfrom(4096)
        if len(packet) < 17:
            continue
        try:
            sock.sendto(answer(packet, records), client)
        except (IndexError, struct.error, ValueError):
            pass  # a malformed query gets no answer, as from a real server that drops it


if __name__ == "__main__":
    main()
