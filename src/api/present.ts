/** Domain → wire: what the API returns. Secrets and internal fields never leave here. */
import { withoutUserInfo } from '../core/bmc-address.ts';
import type { Job } from '../core/job.ts';
import { allowedActions } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';

export function presentMachine(m: Machine) {
  const { bmc, rescueFrom: _rescueFrom, ...rest } = m;
  return {
    ...rest,
    bmc: bmc ? { address: withoutUserInfo(bmc.address), username: bmc.username } : null,
    allowedActions: allowedActions(m.state),
  };
}

export function presentJob(j: Job) {
  const {
    leaseOwner: _o,
    leaseExpiresAt: _e,
    runAfter: _r,
    rack: _rack,
    bmcHost: _b,
    params: _p,
    scratch: _s,
    ...rest
  } = j;
  return rest;
}
