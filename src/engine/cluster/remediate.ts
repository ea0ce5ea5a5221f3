/**
 * The remediator: runs core/remediation.ts's decisions against a real cluster and real BMCs.
 * One pass reads every member's health (its Node's Ready condition from the API, its BMC's
 * health rollup, whether the machine is marked broken), asks `planRemediation` which nodes to
 * start on, and climbs each one's ladder (`nextRung`) rung by rung, telling every rung to the
 * timeline with the node and the reason:
 *
 * - fence: force-off through the node's BMC, then read the power state back from the BMC
 *   until it says Off (never trusting the request alone); not confirmed → the remediation
 *   halts and the Node is kept;
 * - delete-node: the Node and its pods (src/kube/nodes.ts), so controllers start them elsewhere;
 * - power-on: power on through the BMC and wait for the node to register Ready, then put its
 *   labels and taints back; a control plane that does not come back is fenced again;
 * - reprovision: through the port given (the region's: an os-replace operation of the one node,
 *   remediation-loop.ts), then wait Ready as for power-on; a remediator without it fails the
 *   rung, and the ladder escalates to replace;
 * - replace: through the port given, with the spare core/remediation.ts picked in the node's
 *   failure domain (the region's port: remediate-replace.ts, a scale job that joins the spare
 *   and drops the dead node, its machine marked broken; for a control plane the etcd member
 *   swap of remediate-control-plane.ts); it ends the remediation when the port reports the
 *   spare joined and Ready. Without the port the rung fails and the ladder halts.
 *
 * Not yet a durable engine operation (docs/day2.md): a pass runs in the caller's process.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { BmcDriver } from '../../bmc/driver.ts';
import { waitForPower } from '../../bmc/power-wait.ts';
import {
  type NodeHealth,
  nextRung,
  planRemediation,
  type RemediationPolicy,
  type RemediationStep,
  type RungResult,
  type UnhealthyCause,
  unhealthyCause,
} from '../../core/remediation.ts';
import { deleteFencedNode, type NodeMeta, nodesReady, restoreNodeMeta } from '../../kube/nodes.ts';

export interface RemediationMember {
  readonly node: string;
  readonly machineId: string;
  readonly role: 'control-plane' | 'worker';
  readonly domain: string;
  readonly machineBroken?: boolean;
}

export interface RemediationEvent {
  readonly node: string;
  readonly step: RemediationStep | 'plan';
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
  readonly at: string;
}

export interface RemediatorPorts {
  readonly kube: KubeConfig;
  /** Opens the BMC driver of a member's machine; the remediator closes each one it opens. */
  readonly bmc: (machineId: string) => BmcDriver;
  /**
   * The BMC's health rollup as the region's health poller last saw it (fresh enough), so a
   * pass does not open a Redfish session per member; undefined → read from the BMC.
   */
  readonly bmcHealth?: (machineId: string) => NodeHealth['bmcHealth'] | undefined;
  /** Ready machines that may replace the member, with their failure domain. */
  readonly spares?: (m: RemediationMember) => Promise<readonly { machineId: string; domain: string }[]>;
  /** Stacked etcd's members and the nodes whose member answers healthy (the quorum guard). */
  readonly etcd?: () => Promise<{ members: number; healthyOn: readonly string[] }>;
  readonly reprovision?: (m: RemediationMember) => Promise<void>;
  /**
   * Replaces the member with the spare and resolves once the spare's node is Ready in the
   * cluster, with what joined (e.g. "node3 joined and Ready"); rejects with why it failed.
   */
  readonly replace?: (m: RemediationMember, spareMachineId: string, why: string) => Promise<string>;
  readonly event: (e: RemediationEvent) => void;
}

export interface RemediatorOptions {
  readonly policy: RemediationPolicy;
  /** How long the BMC has to report Off after a force-off. @default 30 000 ms */
  readonly fenceTimeoutMs?: number;
  /** How long a node has to be Ready after power-on or reprovision. @default 600 000 ms */
  readonly readyTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * HTTP answers that say "not now" rather than "no": 429, and the 5xx an API server gives while
 * etcd elects a leader ("etcdserver: leader changed", after a member was lost or restored) or
 * an aggregated API is away.
 */
const TRANSIENT_HTTP = new Set([429, 500, 502, 503, 504]);

/**
 * Runs `fn` again while it fails without an HTTP answer (a connection that reached no API
 * server: no `code`) or with a transient one (TRANSIENT_HTTP), every second for up to `ms`;
 * any other HTTP error (404, 403, 409…) is thrown at once.
 */
export async function retryUnreachable<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if ((typeof code === 'number' && !TRANSIENT_HTTP.has(code)) || Date.now() > end) throw e;
      await sleep(1000);
    }
  }
}

/** Runs `fn` with a driver opened for it and closed after (a Redfish session is a BMC's scarce resource). */
async function withBmc<T>(open: () => BmcDriver, fn: (d: BmcDriver) => Promise<T>): Promise<T> {
  const d = open();
  try {
    return await fn(d);
  } finally {
    await d.close().catch(() => {});
  }
}

async function bmcHealth(d: BmcDriver): Promise<NodeHealth['bmcHealth']> {
  try {
    const s = await d.sensors();
    return s.health === 'critical'
      ? 'Critical'
      : s.health === 'warning'
        ? 'Warning'
        : s.health === 'ok'
          ? 'OK'
          : null;
  } catch {
    return null;
  }
}

/** Why a node goes to a spare: its cause and every rung that failed (the broken machine's reason). */
function whyReplace(cause: UnhealthyCause, done: readonly RungResult[]): string {
  const failed = done.filter((d) => !d.ok).map((d) => `${d.step} failed (${d.detail ?? 'no detail'})`);
  return [
    cause === 'not-ready'
      ? 'Node not Ready'
      : cause === 'bmc-critical'
        ? 'BMC health Critical'
        : 'marked broken',
    ...failed,
  ].join('; ');
}

export class Remediator {
  readonly ports: RemediatorPorts;
  readonly o: RemediatorOptions;
  /** Nodes whose remediation is running (they count towards maxUnhealthy). */
  readonly inProgress = new Set<string>();

  constructor(ports: RemediatorPorts, o: RemediatorOptions) {
    this.ports = ports;
    this.o = o;
  }

  #say(
    node: string,
    step: RemediationEvent['step'],
    message: string,
    level: RemediationEvent['level'] = 'info',
  ) {
    this.ports.event({ node, step, level, message, at: new Date().toISOString() });
  }

  /** Each member's health now. */
  async health(members: readonly RemediationMember[]): Promise<NodeHealth[]> {
    const ready = new Map((await nodesReady(this.ports.kube)).map((r) => [r.node, r]));
    const out: NodeHealth[] = [];
    for (const m of members) {
      const r = ready.get(m.node);
      out.push({
        node: m.node,
        machineId: m.machineId,
        role: m.role,
        domain: m.domain,
        ready: r?.ready ?? null,
        readySince: r?.readySince ?? null,
        bmcHealth:
          this.ports.bmcHealth?.(m.machineId) ??
          (await withBmc(() => this.ports.bmc(m.machineId), bmcHealth)),
        machineBroken: m.machineBroken ?? false,
      });
    }
    return out;
  }

  /**
   * One pass: plans, then remediates the nodes it starts, each to its end (recovered or
   * halted). Returns the plan and how each started node ended.
   */
  async pass(members: readonly RemediationMember[], now = new Date()) {
    const nodes = await this.health(members);
    // etcd is asked (a command on each control plane) only when a control plane is unhealthy:
    // its guard decides nothing else.
    const cpUnhealthy = nodes.some(
      (n) => n.role === 'control-plane' && unhealthyCause(n, this.o.policy, now) !== null,
    );
    const plan = planRemediation({
      nodes,
      policy: this.o.policy,
      now,
      inProgress: [...this.inProgress],
      etcd: cpUnhealthy ? await this.ports.etcd?.() : undefined,
    });
    if (plan.halted) for (const w of plan.waiting) this.#say(w.node, 'plan', plan.halted, 'warning');
    else for (const w of plan.waiting) this.#say(w.node, 'plan', w.reason, 'warning');
    const results = await Promise.all(
      plan.start.map(async (s) => {
        const m = members.find((x) => x.node === s.node)!;
        this.#say(m.node, 'plan', `unhealthy: ${s.reason}; remediating`, 'warning');
        this.inProgress.add(m.node);
        try {
          return { node: m.node, ...(await this.remediate(m, s.cause)) };
        } finally {
          this.inProgress.delete(m.node);
        }
      }),
    );
    return { plan, results };
  }

  /** Climbs one node's ladder until it is recovered or halts. */
  async remediate(
    m: RemediationMember,
    cause: UnhealthyCause,
  ): Promise<{ outcome: 'recovered' | 'halted'; done: RungResult[]; reason: string }> {
    const done: RungResult[] = [];
    let meta: NodeMeta | null = null;
    for (;;) {
      const spares = (await this.ports.spares?.(m)) ?? [];
      const next = nextRung({ cause, done, node: m, spares });
      if (next.kind === 'recovered') {
        const reason =
          next.by === 'replace'
            ? `${m.node} replaced: ${done.at(-1)?.detail ?? 'by a spare'}`
            : `${m.node} is Ready again after ${next.by}`;
        this.#say(m.node, next.by, reason);
        return { outcome: 'recovered', done, reason };
      }
      if (next.kind === 'halt') {
        this.#say(m.node, done.at(-1)?.step ?? 'plan', `remediation halted: ${next.reason}`, 'error');
        return { outcome: 'halted', done, reason: next.reason };
      }
      this.#say(m.node, next.step, `${next.step}${next.spare ? ` with spare ${next.spare}` : ''}: starting`);
      let result: RungResult;
      try {
        const r = await withBmc(
          () => this.ports.bmc(m.machineId),
          (bmc) => this.#run(bmc, m, next.step, next.spare, meta, whyReplace(cause, done)),
        );
        if (r.meta) meta = r.meta;
        result = { step: next.step, ok: r.ok, detail: r.detail };
      } catch (e) {
        result = { step: next.step, ok: false, detail: (e as Error).message.slice(0, 500) };
      }
      this.#say(
        m.node,
        next.step,
        `${next.step}: ${result.ok ? 'done' : 'failed'}${result.detail ? ` (${result.detail})` : ''}`,
        result.ok ? 'info' : 'warning',
      );
      done.push(result);
    }
  }

  async #run(
    bmc: BmcDriver,
    m: RemediationMember,
    step: RemediationStep,
    spare: string | undefined,
    meta: NodeMeta | null,
    why: string,
  ): Promise<{ ok: boolean; detail?: string; meta?: NodeMeta | null }> {
    switch (step) {
      case 'fence':
        return this.#fence(bmc);
      case 'delete-node': {
        // The fence's confirmation is re-read here: the Node goes only while the machine is off.
        const s = await bmc.powerState();
        if (s !== 'off')
          return { ok: false, detail: `the BMC reports power ${s}, not Off: the Node is kept` };
        // A fenced control plane may still be in the API's load balancer for a few seconds (its
        // health checks have not dropped it yet): a request that reached no API server is retried.
        const r = await retryUnreachable(() => deleteFencedNode(this.ports.kube, m.node), 60_000);
        return {
          ok: true,
          detail: `Node deleted with ${r.pods.length} pod(s): ${r.pods.join(', ') || 'none'}`,
          meta: r.meta,
        };
      }
      case 'power-on': {
        await bmc.power('on');
        const r = await this.#waitReady(m, meta);
        // A control plane that did not come back is fenced again before the ladder goes on: half
        // up, its etcd member may answer (the replace refuses a member that runs) or come back
        // after its removal. A worker is left as it was (its Node is gone, its pods elsewhere).
        if (r.ok || m.role !== 'control-plane') return r;
        const off = await this.#fence(bmc);
        return {
          ok: false,
          detail: `${r.detail}; ${off.ok ? 'fenced again (the BMC reports power Off)' : `not fenced again: ${off.detail}`}`,
        };
      }
      case 'reprovision': {
        if (!this.ports.reprovision)
          return {
            ok: false,
            detail:
              "reprovision is not wired in this remediator: the Cluster file's spec.remediation.reprovision lets the region redeploy the machine in place (its OS image written again, rejoined with a fresh token)",
          };
        await this.ports.reprovision(m);
        return this.#waitReady(m, meta);
      }
      case 'replace': {
        if (!this.ports.replace || !spare)
          return {
            ok: false,
            detail: `replace${spare ? ` with spare ${spare}` : ''} is not wired in this remediator`,
          };
        return { ok: true, detail: await this.ports.replace(m, spare, why) };
      }
    }
  }

  /**
   * Force-off through the BMC, then its power state read back until it says Off (never trusting
   * the request alone). The force-off goes to a machine that reads off too: in the middle of a
   * power cycle (an operator's, a watchdog's) a machine reads off for the cycle's interval and
   * the BMC then powers it on again, after its Node was deleted; a force-off cancels that
   * (ipmi_sim does). A BMC that refuses to force off a machine that is off (some Redfish BMCs
   * answer 409) changes nothing: the read-back decides.
   */
  async #fence(bmc: BmcDriver): Promise<{ ok: boolean; detail: string }> {
    const before = await bmc.powerState();
    try {
      await bmc.power('force-off');
    } catch (e) {
      if (before !== 'off') throw e;
    }
    const w = await waitForPower(bmc, 'off', { timeoutMs: this.o.fenceTimeoutMs ?? 30_000, intervalMs: 500 });
    return w.reached
      ? { ok: true, detail: 'the BMC reports power Off' }
      : { ok: false, detail: `the BMC still reports power ${w.last}` };
  }

  async #waitReady(m: RemediationMember, meta: NodeMeta | null): Promise<{ ok: boolean; detail: string }> {
    const ms = this.o.readyTimeoutMs ?? 600_000;
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const r = (await nodesReady(this.ports.kube).catch(() => [])).find((x) => x.node === m.node);
      if (r?.ready === 'True') {
        if (meta) await restoreNodeMeta(this.ports.kube, m.node, meta);
        return { ok: true, detail: `registered Ready${meta ? ', labels and taints put back' : ''}` };
      }
      await sleep(1000);
    }
    return { ok: false, detail: `not Ready within ${ms / 1000} s` };
  }
}
