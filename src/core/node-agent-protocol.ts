/**
 * The node agent's side of the agent protocol (src/agent/node/, docs/node-os.md): which tasks a
 * deployed kubernetes-node OS's agent runs, its check-in, and the bootstrap result as it sends
 * it — checked here once, where the rack receives it. The tasks, parameters and report bodies
 * both agents share are in agent-protocol.ts.
 */
import {
  AgentTask,
  type BootstrapResult,
  type BootstrapRole,
  isObject,
  NODE_TASKS,
  prune,
  RACK_ANSWERED,
} from './agent-protocol.ts';
import { ErrorCode, IngotError } from './errors.ts';

/** Tasks the ephemeral OS's agent runs (src/agent/guest/); the node agent never gets them. */
export const EPHEMERAL_TASKS: readonly AgentTask[] = Object.values(AgentTask).filter(
  (t) => !RACK_ANSWERED.includes(t) && !NODE_TASKS.includes(t),
);

/** A deployed OS's node agent started and checked in (POST /agent/v1/node-hello, OS token). */
export const NODE_HELLO_EVENT = 'agent.node-hello';

/** What the node agent says when it starts: its version and the node's runtime. */
export const NODE_HELLO_FIELDS = [
  'agent',
  'kernel',
  'cgroup',
  'kubelet',
  'containerd',
  'containerdRunning',
] as const;

/** The node hello's known fields: strings cut to 200 characters, booleans as they are. */
export function nodeHelloFields(body: unknown): Record<string, string | boolean> {
  const o = isObject(body) ? body : {};
  const out: Record<string, string | boolean> = {};
  for (const k of NODE_HELLO_FIELDS) {
    const v = o[k];
    if (typeof v === 'string') out[k] = v.slice(0, 200);
    else if (typeof v === 'boolean') out[k] = v;
  }
  return out;
}

/** What the node agent found about the node's runtime (cheap facts). */
export interface NodeFacts {
  kubelet?: string;
  containerd?: string;
  containerdRunning: boolean;
}

/** A bootstrap's result as the engine reads it, with the node's facts when the agent sent them. */
export interface BootstrapReport extends BootstrapResult {
  node?: NodeFacts;
}

/** The field a stored bootstrap result holds the sealed admin kubeconfig's secret id in. */
export const ADMIN_KUBECONFIG_SECRET = 'adminKubeconfigSecret';
/** The field a stored join-token result holds the sealed token's secret id in. */
export const JOIN_TOKEN_SECRET = 'tokenSecret';
/** Largest admin kubeconfig the agent may send (base64), characters. */
export const MAX_ADMIN_KUBECONFIG = 256 * 1024;
const PHASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A bootstrap result as the node agent sends it, checked where the rack receives it: phase
 * names, the node's facts, and for the `init` role only the admin kubeconfig as the base64 of
 * /etc/kubernetes/admin.conf — returned decoded, as the engine reads it (`BootstrapResult`).
 * A malformed one throws naming the field, never the value.
 */
export function checkBootstrapReport(v: unknown, role: BootstrapRole): BootstrapReport {
  const bad = (field: string, what: string) =>
    new IngotError(ErrorCode.AgentError, `the agent's bootstrap result is malformed: ${field}: ${what}`, {
      details: { field },
    });
  if (!isObject(v)) throw bad('result', 'an object');
  if (!Array.isArray(v.phases) || v.phases.length > 64) throw bad('phases', 'a list of at most 64 names');
  const phases = v.phases.map((p, i) => {
    if (typeof p !== 'string' || !PHASE_NAME.test(p))
      throw bad(`phases[${i}]`, 'a phase name (letters, digits, . _ : / -; at most 64)');
    return p;
  });
  const out: BootstrapReport = { phases };
  const k = v.adminKubeconfig;
  if (role === 'init') {
    if (typeof k !== 'string' || k.length === 0 || k.length > MAX_ADMIN_KUBECONFIG || !BASE64.test(k))
      throw bad(
        'adminKubeconfig',
        `the base64 of /etc/kubernetes/admin.conf (at most ${MAX_ADMIN_KUBECONFIG} characters)`,
      );
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(k), (c) => c.charCodeAt(0)),
    );
    if (!/^kind: Config\s*$/m.test(text)) throw bad('adminKubeconfig', 'a kubeconfig (kind: Config)');
    out.adminKubeconfig = text;
  } else if (k !== undefined) throw bad('adminKubeconfig', `only an init node sends it, not a ${role}`);
  if (v.node !== undefined) {
    if (!isObject(v.node)) throw bad('node', 'an object');
    const n = v.node;
    const text = (x: unknown, f: string) => {
      if (x === undefined || x === '') return undefined;
      if (typeof x !== 'string' || x.length > 200)
        throw bad(`node.${f}`, 'a string of at most 200 characters');
      return x;
    };
    if (typeof n.containerdRunning !== 'boolean') throw bad('node.containerdRunning', 'true or false');
    out.node = prune({
      kubelet: text(n.kubelet, 'kubelet'),
      containerd: text(n.containerd, 'containerd'),
      containerdRunning: n.containerdRunning,
    });
  }
  return out;
}
