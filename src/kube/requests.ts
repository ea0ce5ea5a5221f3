/**
 * The CPU and memory the pods on each node request, as the scheduler counts them: per pod the
 * larger of its containers' sum and its largest init container, plus the pod overhead; pods
 * not bound to a node, and finished pods (Succeeded, Failed), request nothing. Quantities are
 * Kubernetes' (`250m`, `1.5`, `64Mi`, `1G`, `1e3`).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { invalid } from '../core/errors.ts';

/** CPU in cores, memory in bytes. */
export interface NodeRequests {
  readonly cpu: number;
  readonly memoryBytes: number;
}

const SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number (`250m` → 0.25, `64Mi` → 67108864). */
export function quantity(q: string | undefined): number {
  if (q === undefined || q === '') return 0;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]{0,2})$/.exec(q.trim());
  const scale = m ? SUFFIX[m[2]] : undefined;
  if (!m || scale === undefined) throw invalid('quantity', `"${q}" is not a Kubernetes quantity`);
  return Number(m[1]) * scale;
}

type Requests = Record<string, string> | undefined;
const req = (r: Requests, k: 'cpu' | 'memory') => quantity(r?.[k]);

/** One pod's effective request (the scheduler's: max(Σ containers, max init) + overhead). */
export function podRequests(p: V1Pod): NodeRequests {
  const one = (k: 'cpu' | 'memory') => {
    const run = (p.spec?.containers ?? []).reduce((a, c) => a + req(c.resources?.requests as Requests, k), 0);
    const init = Math.max(
      0,
      ...(p.spec?.initContainers ?? []).map((c) => req(c.resources?.requests as Requests, k)),
    );
    return Math.max(run, init) + req(p.spec?.overhead as Requests, k);
  };
  return { cpu: one('cpu'), memoryBytes: one('memory') };
}

/** Node name → the sum of its bound, unfinished pods' requests. Nodes without pods are absent. */
export function requestsByNode(pods: readonly V1Pod[]): Map<string, NodeRequests> {
  const out = new Map<string, NodeRequests>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (!node || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    const r = podRequests(p);
    const had = out.get(node) ?? { cpu: 0, memoryBytes: 0 };
    out.set(node, { cpu: had.cpu + r.cpu, memoryBytes: had.memoryBytes + r.memoryBytes });
  }
  return out;
}
