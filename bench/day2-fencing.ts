/**
 * Time from a worker's death to its pod Ready elsewhere, on the 1+1 test bed (real Kubernetes
 * 1.20.2), two ways in the same run:
 *
 * - **fenced**: Ingot's remediator (src/engine/cluster/remediate.ts) sees the Node NotReady
 *   (`--after` seconds, default 0), fences the machine through the virtual Redfish BMC, deletes
 *   the Node and its pods; the Deployment's pod starts on the control plane;
 * - **Kubernetes alone** (the floor to beat): nobody acts; the node controller marks the Node
 *   NotReady after its grace period (40 s) and evicts its pods once their default
 *   `node.kubernetes.io/unreachable` toleration (300 s) runs out.
 *
 * The worker dies by its BMC's power-off (every process of the node killed). Results go to
 * docs/bench-day2.md by hand. Run as root: `node bench/day2-fencing.ts [--after 5] [--skip-floor]`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import '../src/bmc/index.ts';
import { createBmcDriver } from '../src/bmc/registry.ts';
import { Remediator } from '../src/engine/cluster/remediate.ts';
import { bedBmc } from '../src/lab/testbed/power.ts';
import { saveSysctls } from '../src/lab/testbed/sysctls.ts';
import { webBackOnWorker, webOnWorker, webPods } from '../test/support/day2.ts';
import {
  bedKubeConfig,
  bedName,
  importHttpd,
  reapStaleBeds,
  startBed,
  stopBed,
  waitFor,
} from '../test/support/testbed.ts';

const { values } = parseArgs({
  options: { after: { type: 'string', default: '0' }, 'skip-floor': { type: 'boolean', default: false } },
});
const after = Number(values.after);

const name = bedName('dd');
const root = mkdtempSync(join(tmpdir(), 'ingot-bench-day2-'));
const sysctls = saveSysctls();
await reapStaleBeds('dd');
const { bed, api, core, apps } = await startBed(name, '1+1', root);
const say = (l: string) => process.stdout.write(`${l}\n`);
const s = (ms: number) => (ms / 1000).toFixed(1);
try {
  const kc = bedKubeConfig(api);
  await importHttpd(bed, ['node1', 'node2']);
  await webOnWorker(core, apps);
  const creds = { username: 'admin', password: 'bench-bmc-pass' };
  const bmc = await bedBmc(bed, root, creds);
  const worker = bmc.targets.get('node2')!;
  const notReadyAt = async (since: number) => {
    await waitFor(
      async () =>
        (await core.readNode({ name: 'node2' })).status?.conditions?.find((c) => c.type === 'Ready')
          ?.status !== 'True',
      300_000,
      'node2 NotReady',
    );
    return Date.now() - since;
  };
  const movedAfter = async (since: number, ms: number) => {
    await waitFor(
      async () => (await webPods(core)).some((p) => p.node === 'node1' && p.ready),
      ms,
      'web Ready on node1',
    );
    return Date.now() - since;
  };
  try {
    // Fenced.
    const address = new Map(bmc.machines.map((m) => [m.node, m.address]));
    const marks: Record<string, number> = {};
    const remediator = new Remediator(
      {
        kube: kc,
        bmc: (id) => createBmcDriver({ address: address.get(id)!, ...creds }),
        event: (e) => {
          if (e.message.endsWith(': done') || e.message.includes(': done ')) marks[e.step] ??= Date.now();
        },
      },
      { policy: { unhealthyAfterSeconds: after, maxUnhealthy: 1 }, readyTimeoutMs: 300_000 },
    );
    const members = [
      { node: 'node1', machineId: 'node1', role: 'control-plane' as const, domain: 'bed' },
      { node: 'node2', machineId: 'node2', role: 'worker' as const, domain: 'bed' },
    ];
    const t0 = Date.now();
    await worker.powerOff(false);
    const moved = movedAfter(t0, 300_000);
    const notReady = await notReadyAt(t0);
    let pass: Awaited<ReturnType<Remediator['pass']>> | null = null;
    while (!pass?.results.length) {
      pass = await remediator.pass(members);
      if (!pass.results.length) await new Promise((r) => setTimeout(r, 500));
    }
    const fencedMoved = await moved;
    say(
      `fenced (unhealthy after ${after} s): NotReady ${s(notReady)} s, fenced ${s(marks.fence - t0)} s, Node deleted ${s(marks['delete-node'] - t0)} s, pod Ready on the control plane ${s(fencedMoved)} s; node2 back Ready ${s(marks['power-on'] - t0)} s (${pass.results[0].outcome})`,
    );

    if (!values['skip-floor']) {
      // Kubernetes alone.
      await webBackOnWorker(core);
      const t1 = Date.now();
      await worker.powerOff(false);
      const moved2 = movedAfter(t1, 600_000);
      const notReady2 = await notReadyAt(t1);
      say(
        `Kubernetes alone: NotReady ${s(notReady2)} s, pod Ready on the control plane ${s(await moved2)} s`,
      );
    }
  } finally {
    await bmc.emulator.close();
  }
} finally {
  await stopBed(name, root, bed, api, sysctls);
}
