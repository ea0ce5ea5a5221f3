"""Drives a Redfish system with OpenStack's sushy and prints what it observed, one JSON object.

Usage: sushy-check.py BASE_URL USER PASSWORD SYSTEM_ID [CA_FILE]
CA_FILE is the certificate to verify an HTTPS BMC against (sushy verifies by default).
"""
import json
import sys

import sushy

url, user, password, system_id = sys.argv[1:5]
verify = sys.argv[5] if len(sys.argv) > 5 else True
root = sushy.Sushy(url + '/redfish/v1', username=user, password=password, verify=verify)
system = root.get_system('/redfish/v1/Systems/' + system_id)
seen = {'id': system.identity, 'uuid': system.uuid, 'initial_power': str(system.power_state.value)}

system.set_system_boot_options(sushy.BootSource.PXE, enabled=sushy.BootSourceOverrideEnabled.ONCE)
system.refresh()
seen['boot_after_set'] = [system.boot.target.value, system.boot.enabled.value]

system.reset_system(sushy.ResetType.ON)
system.refresh()
seen['power_after_on'] = system.power_state.value
seen['boot_after_on'] = [system.boot.target.value, system.boot.enabled.value]

system.reset_system(sushy.ResetType.FORCE_OFF)
system.refresh()
seen['power_after_off'] = system.power_state.value

system.reset_system(sushy.ResetType.ON)
system.refresh()
seen['power_after_second_on'] = system.power_state.value
print(json.dumps(seen))
