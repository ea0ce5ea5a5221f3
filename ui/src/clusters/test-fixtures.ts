/** Plan pieces for the Clusters component and unit tests. */
import type { PlannedNode, WhatIfRow } from './api.ts';

export function node(over: Partial<PlannedNode>): PlannedNode {
  const hostname = over.hostname ?? 'n';
  return {
    hostname,
    machineId: `m-${hostname}`,
    role: 'worker',
    pool: 'general',
    zone: 'z1',
    rack: 'r1',
    init: false,
    address: '10.0.0.10/24',
    ip: '10.0.0.10',
    gateway: '10.0.0.1',
    dns: [],
    subnet: 'machines',
    nics: [],
    disks: [],
    labels: {},
    taints: [],
    ...over,
  };
}

export function row(over: Partial<WhatIfRow>): WhatIfRow {
  return {
    domain: 'zone',
    name: 'z1',
    lost: { controlPlanes: 0, etcd: 0, workers: 0 },
    etcdSurvivors: 3,
    etcdMembers: 3,
    quorum: true,
    apiAvailable: true,
    workersSurviving: 2,
    workersTotal: 2,
    ...over,
  };
}
