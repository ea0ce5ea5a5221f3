#!/usr/bin/env python3
"""A switch port's LLDP announcements, for tests: sends one LLDPDU per second on IFACE
(inside a namespace the test made) until killed.

    lldp-sender.py IFACE SYSTEM_NAME PORT_ID VLAN
"""
import socket
import struct
import sys
import time

iface, system_name, port_id, vlan = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
chassis_mac = bytes.fromhex("02a0c9000001")


def tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!H", (kind << 9) | len(value)) + value


pdu = b"".join(
    [
        tlv(1, b"\x04" + chassis_mac),  # chassis ID: MAC address
        tlv(2, b"\x05" + port_id.encode()),  # port ID: interface name
        tlv(3, struct.pack("!H", 120)),  # TTL
        tlv(4, f"uplink to {port_id}".encode()),  # port description
        tlv(5, system_name.encode()),  # system name
        tlv(6, b"Ingot test switch"),  # system description
        tlv(127, b"\x00\x80\xc2\x01" + struct.pack("!H", vlan)),  # 802.1 port VLAN ID
        tlv(0, b""),  # end
    ]
)
frame = bytes.fromhex("0180c200000e") + chassis_mac + struct.pack("!H", 0x88CC) + pdu

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
while True:
    s.send(frame)
    time.sleep(1)
