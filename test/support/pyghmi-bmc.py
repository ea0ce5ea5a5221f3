"""A pyghmi IPMI BMC on loopback whose power and boot state live in a JSON file.

Usage: pyghmi-bmc.py STATE_FILE USER PASSWORD
Prints "port N" once it listens (it binds 127.0.0.1 on a free port), then serves forever.
"""
import json
import sys

import pyghmi.ipmi.bmc as bmc

state_file, user, password = sys.argv[1:4]
state = {'power': 'off', 'boot': None, 'efi': None, 'persistent': None, 'actions': []}


def save():
    with open(state_file, 'w') as f:
        json.dump(state, f)


class FileBmc(bmc.Bmc):
    def get_power_state(self):
        return state['power']

    def power_on(self):
        state['power'] = 'on'
        state['actions'].append('on')
        save()

    def power_off(self):
        state['power'] = 'off'
        state['actions'].append('off')
        save()

    def power_shutdown(self):
        state['power'] = 'off'
        state['actions'].append('soft')
        save()

    def power_cycle(self):
        state['power'] = 'on'
        state['actions'].append('cycle')
        save()

    def power_reset(self):
        state['actions'].append('reset')
        save()

    def get_boot_device(self):
        return state['boot'] or 'default'

    def set_system_boot_options(self, request, session):
        # Boot flags (parameter 5), byte 1: bit 6 persistent, bit 5 EFI (IPMI 2.0 table 28-14).
        if request['data'][0] == 5:
            state['efi'] = bool(request['data'][1] & 0x20)
            state['persistent'] = bool(request['data'][1] & 0x40)
        return super().set_system_boot_options(request, session)

    def set_boot_device(self, bootdevice):
        state['boot'] = bootdevice
        save()


server = FileBmc({user: password}, port=0, address='127.0.0.1')
# pyghmi routes sessions by the port it was given, so record the port the kernel picked.
server.port = server.serversocket.getsockname()[1]
save()
print('port', server.port, flush=True)
server.listen()
