#!/usr/bin/env python3
"""Writes the seed corpora and the regression inputs of tests/fuzz.

    tests/fuzz/make-seeds.py [tests/fuzz]

corpus/<target>/  small valid inputs, one per link layer, tunnel, script
                  shape or protocol; the fuzzer grows from them.
regress/          inputs that showed a bug, named <target>-<what>; each
                  must replay cleanly once its bug is fixed.

The frames are the ones of tests/unit/test_decode.c (10.0.0.1:50000 ->
10.0.0.2:3306 TCP "hello" unless said otherwise).  The pcap seeds also
copy four small captures from samples/ when they are there.
"""
import os
import shutil
import struct
import sys

HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, '..', '..', 'samples')


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def seed(target, name, data):
    write(os.path.join(HERE, 'corpus', target, name), data)


def regress(name, data):
    write(os.path.join(HERE, 'regress', name), data)


# ---------------------------------------------------------------- packets

ETH = bytes.fromhex('001122334455' '66778899aabb')
CLI, SRV = b'\x0a\x00\x00\x01', b'\x0a\x00\x00\x02'
OUT1, OUT2 = b'\xc0\xa8\x00\x01', b'\xc0\xa8\x00\x02'


def ipv4(proto, payload, src=CLI, dst=SRV, ident=0x1234, fo=0x4000, opts=b''):
    ihl = 5 + len(opts) // 4
    return struct.pack('>BBHHHBBH4s4s', 0x40 | ihl, 0, ihl * 4 + len(payload), ident, fo,
                       64, proto, 0, src, dst) + opts + payload


def tcp(sport, dport, seq, ack, flags, payload=b''):
    return struct.pack('>HHIIBBHHH', sport, dport, seq, ack, 0x50, flags, 0xffff, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack('>HHHH', sport, dport, 8 + len(payload), 0) + payload


def ipv6(nh, payload, exts=b''):
    return (struct.pack('>IHBB', 0x60000000, len(exts) + len(payload), nh, 64) +
            bytes.fromhex('20010db8000000000000000000000001') +
            bytes.fromhex('20010db8000000000000000000000002') + exts + payload)


def eth(ethertype, payload):
    return ETH + struct.pack('>H', ethertype) + payload


HELLO = ipv4(6, tcp(50000, 3306, 0x01020304, 0x0a0b0c0d, 0x18, b'hello'))
VXLAN_HDR = b'\x08\x00\x00\x00\x00\x00\x2a\x00'

# name: (DLT, frame)
FRAMES = {
    'eth_tcp': (1, eth(0x0800, HELLO)),
    'vlan_tcp': (1, ETH + b'\x81\x00\x00\x64\x08\x00' + HELLO),
    'qinq_tcp': (1, ETH + b'\x88\xa8\x00\xc8\x81\x00\x00\x64\x08\x00' + HELLO),
    'pppoe_tcp': (1, eth(0x8864, struct.pack('>BBHH', 0x11, 0, 1, len(HELLO) + 2) +
                         b'\x00\x21' + HELLO)),
    'mpls_tcp': (1, eth(0x8847, b'\x00\x01\x00\x40\x00\x02\x01\x40' + HELLO)),
    'gre_tcp': (1, eth(0x0800, ipv4(47, b'\x00\x00\x08\x00' + HELLO, src=OUT1, dst=OUT2))),
    'erspan2_tcp': (1, eth(0x0800, ipv4(47, b'\x10\x00\x88\xbe' + b'\x00\x00\x00\x01' +
                                        b'\x10\x00\x00\x01\x00\x00\x00\x00' +
                                        eth(0x0800, HELLO), src=OUT1, dst=OUT2))),
    'vxlan_tcp': (1, eth(0x0800, ipv4(17, udp(49152, 4789, VXLAN_HDR + eth(0x0800, HELLO)),
                                      src=OUT1, dst=OUT2))),
    'ipip_tcp': (1, eth(0x0800, ipv4(4, HELLO, src=b'\xac\x10\x00\x01', dst=b'\xac\x10\x00\x02'))),
    'ipv6_ext_tcp': (1, eth(0x86dd, ipv6(0, tcp(50000, 3306, 1, 2, 0x18, b'hello'),
                                         exts=b'\x3c\x00\x01\x04\x00\x00\x00\x00'
                                              b'\x06\x00\x01\x04\x00\x00\x00\x00'))),
    'ipv6_udp': (1, eth(0x86dd, ipv6(17, udp(54321, 53, b'hello')))),
    'eth_udp': (1, eth(0x0800, ipv4(17, udp(40000, 514, b'hello')))),
    'sll_tcp': (113, b'\x00\x00\x00\x01\x00\x06' b'\x66\x77\x88\x99\xaa\xbb\x00\x00'
                     b'\x08\x00' + HELLO),
    'sll2_tcp': (276, b'\x08\x00\x00\x00\x00\x00\x00\x02\x00\x01\x00\x06'
                      b'\x66\x77\x88\x99\xaa\xbb\x00\x00' + HELLO),
    'null_tcp': (0, b'\x02\x00\x00\x00' + HELLO),
    'loop_tcp': (108, b'\x00\x00\x00\x02' + HELLO),
    'raw_tcp': (12, HELLO),
    'raw6_udp': (229, ipv6(17, udp(54321, 53, b'hello'))),
    'hdlc_tcp': (104, b'\x0f\x00\x08\x00' + HELLO),
    'ppp_tcp': (9, b'\xff\x03\x00\x21' + HELLO),
    'nflog_tcp': (239, b'\x02\x00\x00\x00' + struct.pack('<HH', 8, 1) + b'\x08\x00\x00\x00' +
                       struct.pack('<HH', 4 + len(HELLO), 9) + HELLO +
                       b'\x00' * (-len(HELLO) % 4)),
}
# fuzz_decode's first byte: index into its table of link types
DLT_INDEX = {1: 0, 0: 1, 108: 2, 12: 3, 101: 4, 228: 5, 229: 6, 113: 7, 276: 8, 104: 9,
             9: 10, 50: 11, 239: 12}

# a UDP datagram 40000 -> 514 of 16 bytes, in two fragments (id beef)
DGRAM = udp(40000, 514, b'0123456789abcdef')
FRAG1 = eth(0x0800, ipv4(17, DGRAM[:16], ident=0xbeef, fo=0x2000))
FRAG2 = eth(0x0800, ipv4(17, DGRAM[16:], ident=0xbeef, fo=0x0002))
FRAG1_OPTS = eth(0x0800, ipv4(17, DGRAM[:16], ident=0xbeef, fo=0x2000, opts=b'\x01\x01\x01\x00'))
FRAG2_LONG_IHL = eth(0x0800, ipv4(17, DGRAM[16:], ident=0xbeef, fo=0x0002, opts=b'\x01' * 40))


def decode_input(dlt, *frames):
    """fuzz_decode input: link type, then one frame or length-prefixed frames."""
    if len(frames) == 1:
        return bytes([DLT_INDEX[dlt]]) + frames[0]
    return bytes([DLT_INDEX[dlt]]) + b''.join(struct.pack('>H', len(f)) + f for f in frames)


def pcap(dlt, frames, nsec=False):
    out = struct.pack('<IHHiIII', 0xa1b23c4d if nsec else 0xa1b2c3d4, 2, 4, 0, 0, 65535, dlt)
    for i, f in enumerate(frames):
        out += struct.pack('<IIII', 1700000000 + i, 0, len(f), len(f)) + f
    return out


def tcp_conv(cport, sport, client, server):
    """Handshake, client data, server data, FIN both ways."""
    frames = []
    cs, ss = 1001, 5001

    def pkt(to_server, seq, ack, flags, data=b''):
        src, dst, sp, dp = (CLI, SRV, cport, sport) if to_server else (SRV, CLI, sport, cport)
        frames.append(eth(0x0800, ipv4(6, tcp(sp, dp, seq, ack, flags, data), src=src, dst=dst)))
    pkt(True, cs - 1, 0, 0x02)
    pkt(False, ss - 1, cs, 0x12)
    pkt(True, cs, ss, 0x10)
    pkt(True, cs, ss, 0x18, client)
    cs += len(client)
    if server:
        pkt(False, ss, cs, 0x18, server)
        ss += len(server)
    pkt(True, cs, ss, 0x11)
    pkt(False, ss, cs + 1, 0x11)
    pkt(True, cs + 1, ss + 1, 0x10)
    return frames


# fuzz_reasm script steps
def seg(off, ln, back=False, big=False, cut=None, far=False):
    op = (4 if back else 0) | (8 if big else 0) | (16 if cut is not None else 0) | (32 if far else 0)
    return bytes([op]) + struct.pack('>HBB', off, ln, cut or 0)


def syn(a=0):
    return bytes([1]) + struct.pack('>H', a)


def ack(a):
    return bytes([2]) + struct.pack('>H', a)


FLUSH = bytes([3, 0, 0])


# fuzz_detector script steps
def step(to_client, data):
    return bytes([1 if to_client else 0]) + struct.pack('>H', len(data)) + data


def mysql_packet(seq, body):
    return struct.pack('<I', len(body))[:3] + bytes([seq]) + body


def pg_message(tag, body):
    return tag + struct.pack('>I', 4 + len(body)) + body


# ---------------------------------------------------------------- corpus

def corpus():
    for name, (dlt, frame) in FRAMES.items():
        seed('fuzz_decode', name, decode_input(dlt, frame))
    seed('fuzz_decode', 'frag_in_order', decode_input(1, FRAG1, FRAG2))
    seed('fuzz_decode', 'frag_reversed', decode_input(1, FRAG2, FRAG1))
    seed('fuzz_decode', 'frag_options', decode_input(1, FRAG1_OPTS, FRAG2))

    seed('fuzz_reasm', 'in_order', struct.pack('>I', 1000) + syn() + seg(0, 10) + seg(10, 10) +
         seg(20, 5))
    seed('fuzz_reasm', 'reverse', struct.pack('>I', 1000) + syn() + seg(20, 10) + seg(10, 10) +
         seg(0, 10))
    seed('fuzz_reasm', 'wrap', struct.pack('>I', 0xfffffff0) + syn() + seg(30, 20) + seg(0, 30) +
         seg(10, 5))
    seed('fuzz_reasm', 'holes_ack', struct.pack('>I', 7) + seg(0, 10) + seg(20, 10) + ack(8) +
         seg(40, 10, cut=3) + FLUSH + seg(60, 1))
    # 20 segments of 16320 bytes past a hole: over REASM_MAX_OOO_BYTES
    seed('fuzz_reasm', 'big_ooo', struct.pack('>I', 99) + syn() + seg(1, 200) +
         b''.join(seg(1 + k * 64, 255, big=True, far=True) for k in range(20)) + seg(0, 1))
    seed('fuzz_reasm', 'overlaps', struct.pack('>I', 5000) + syn() + seg(10, 10) + seg(5, 10) +
         seg(0, 12) + seg(2, 4, back=True))

    sessions = [
        ('synthetic-redis.pcap', tcp_conv(50000, 6379, b'*2\r\n$4\r\nAUTH\r\n$8\r\nhunter22\r\n',
                                          b'+OK\r\n')),
        ('synthetic-mysql-mid.pcap', tcp_conv(50000, 3306, b'\x0f\x00\x00\x00\x03SELECT 1234567',
                                              b'\x01\x00\x00\x01\x01')[3:]),
    ]
    for name, frames in sessions:
        seed('fuzz_pcap', name, pcap(1, frames))
    seed('fuzz_pcap', 'synthetic-tunnels.pcap',
         pcap(1, [f for dlt, f in FRAMES.values() if dlt == 1] + [FRAG2, FRAG1]))
    seed('fuzz_pcap', 'synthetic-sll2.pcap', pcap(276, [FRAMES['sll2_tcp'][1]], nsec=True))
    for name in ('mysql-port', 'pgsql-password', 'pgsql-md5', 'redis-auth'):
        src = os.path.join(SAMPLES, name + '.pcap')
        if os.path.exists(src) and os.path.getsize(src) < 20000:
            shutil.copyfile(src, os.path.join(HERE, 'corpus', 'fuzz_pcap', 'sample-' + name + '.pcap'))

    # fuzz_detector: [detector index, chunk] then steps; indexes follow
    # detectors/registry.c (mysql 0, pgsql 1, redis 2 when written)
    greeting = mysql_packet(0, b'\x0a' b'10.11.6-MariaDB\x00' + struct.pack('<I', 5) +
                            b'abcdefgh\x00' + struct.pack('<HBHH', 0xf7fe, 0x21, 2, 0x81bf) +
                            b'\x15' + b'\x00' * 10 + b'ijklmnopqrst\x00' +
                            b'mysql_native_password\x00')
    login = mysql_packet(1, struct.pack('<IIB', 0x000aa28d, 16777216, 33) + b'\x00' * 23 +
                         b'app\x00' + b'\x14' + b'A' * 20 + b'shop\x00' +
                         b'mysql_native_password\x00')
    ok = mysql_packet(2, b'\x00\x00\x00\x02\x00\x00\x00')
    query = mysql_packet(0, b'\x03' b"SELECT * FROM customers WHERE card='4111111111111111'")
    mysql = step(1, greeting) + step(0, login) + step(1, ok) + step(0, query)
    seed('fuzz_detector', 'mysql-login', bytes([0, 0]) + mysql)
    seed('fuzz_detector', 'mysql-login-bytewise', bytes([0, 1]) + mysql)

    startup = struct.pack('>I', 196608) + b'user\x00app_clear\x00database\x00shop\x00\x00'
    startup = struct.pack('>I', 4 + len(startup)) + startup
    pgsql = (step(0, startup) + step(1, pg_message(b'R', struct.pack('>I', 3))) +
             step(0, pg_message(b'p', b'Pg-Clear-pw2\x00')) +
             step(1, pg_message(b'R', struct.pack('>I', 0)) + pg_message(b'Z', b'I')) +
             step(0, pg_message(b'Q', b'SELECT name, card FROM customers;\x00')))
    seed('fuzz_detector', 'pgsql-password', bytes([1, 0]) + pgsql)
    seed('fuzz_detector', 'pgsql-sslrequest', bytes([1, 3]) +
         step(0, struct.pack('>II', 8, 80877103)) + step(1, b'S') +
         step(0, b'\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00'))
    seed('fuzz_detector', 'redis-auth', bytes([2, 0]) +
         step(0, b'*2\r\n$4\r\nAUTH\r\n$17\r\nRedis-Secr3t-pw!!\r\n') + step(1, b'+OK\r\n') +
         step(0, b'SET card:alice 4111111111111111\r\n') + step(1, b'+OK\r\n'))
    seed('fuzz_detector', 'redis-inline-split', bytes([2, 5]) +
         step(0, b'AUTH hunter2hunter2\r\nPING\r\n') + step(1, b'+OK\r\n+PONG\r\n'))


# ---------------------------------------------------------------- regressions

def regressions():
    # the UDP header cut after its length field: a payload past the capture
    udp_frame = FRAMES['eth_udp'][1]
    regress('fuzz_decode-udp-header-cut', decode_input(1, udp_frame[:14 + 20 + 6]))
    # the same on the way to VXLAN: the decoder reads the VXLAN flags past the end
    regress('fuzz_decode-vxlan-header-cut', decode_input(1, FRAMES['vxlan_tcp'][1][:14 + 20 + 7]))
    # the completing fragment has a longer IP header than the rebuilt datagram
    regress('fuzz_decode-frag-long-ihl', decode_input(1, FRAG1, FRAG2_LONG_IHL))
    # VXLAN carrying ICMP: the outer UDP payload is left in the packet
    icmp = ipv4(1, b'\x08\x00\x00\x00\x00\x01\x00\x01' b'ping')
    regress('fuzz_decode-vxlan-inner-icmp', decode_input(1, eth(0x0800, ipv4(
        17, udp(49152, 4789, VXLAN_HDR + eth(0x0800, icmp)), src=OUT1, dst=OUT2))))
    # an in-order retransmission covering a held segment and more: the tail
    # is dropped without a gap
    regress('fuzz_reasm-covering-retransmission', struct.pack('>I', 5000) + syn() +
            seg(10, 10) + seg(0, 30))

    # End to end, the long-IHL fragment bug hands a detector a 4 GiB
    # payload: 1) a Redis flow is decided; 2) a fragmented UDP datagram
    # leaves a TCP header of that flow at offset 60 of frag.c's rebuild
    # buffer; 3) two TCP fragments, the last with IHL 15, are rebuilt into 52
    # bytes but decoded with IHL 60, so the stale header is read as theirs
    # and the payload length underflows.
    frames = tcp_conv(50000, 6379, b'', b'')[:3]
    ping = b'*1\r\n$4\r\nPING\r\n'
    frames.append(eth(0x0800, ipv4(6, tcp(50000, 6379, 1001, 5001, 0x18, ping))))
    frames.append(eth(0x0800, ipv4(6, tcp(6379, 50000, 5001, 1001 + len(ping), 0x18,
                                          b'+PONG\r\n'), src=SRV, dst=CLI)))
    stale = tcp(50000, 6379, 1001 + len(ping), 5008, 0x18)
    data = udp(1, 2, b'\x00' * 32 + stale + b'X' * 24)
    frames.append(eth(0x0800, ipv4(17, data[:48], ident=1, fo=0x2000)))
    frames.append(eth(0x0800, ipv4(17, data[48:], ident=1, fo=6)))
    first = tcp(50000, 6379, 1001 + len(ping), 5008, 0x18, b'PING')
    frames.append(eth(0x0800, ipv4(6, first, ident=2, fo=0x2000)))
    frames.append(eth(0x0800, ipv4(6, b'\r\nPING\r\n', ident=2, fo=3, opts=b'\x01' * 40)))
    regress('fuzz_pcap-frag-long-ihl.pcap', pcap(1, frames))


corpus()
regressions()
