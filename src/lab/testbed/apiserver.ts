/** The test bed's workaround for Kubernetes 1.20's stale first API server in HA beds. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BedNode } from './bed.ts';
import { cgroupPids, inNode } from './node.ts';

/**
 * Restarts the first control plane's API server (the kubelet starts its static pod again) and
 * waits for its /readyz. Kubernetes 1.20's first API server keeps serving stale watches after
 * the other control planes' etcd members join (kubernetes/kubernetes#97294): here kube-proxy's
 * Service watch stayed silent in every HA run without this, and answered at once after it.
 */
export async function restartApiServer(node: BedNode, say: (l: string) => void): Promise<void> {
  say(`restarting the kube-apiserver on ${node.name} (kubernetes#97294)`);
  for (const p of cgroupPids(node.ns)) {
    let comm = '';
    try {
      comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
    } catch {
      continue; // gone meanwhile
    }
    if (comm === 'kube-apiserver') process.kill(p, 'SIGTERM');
  }
  const started = Date.now();
  const end = started + 180_000;
  await sleep(2000);
  while (Date.now() < end) {
    const ok = await inNode(node.pid, 'curl', [
      '-sk',
      '--max-time',
      '2',
      `https://${node.ip}:6443/readyz`,
    ]).catch(() => '');
    if (ok.trim() === 'ok') {
      say(
        `the kube-apiserver on ${node.name} is ready again after ${Math.round((Date.now() - started) / 1000)} s`,
      );
      return;
    }
    await sleep(1000);
  }
  throw new Error(`the kube-apiserver on ${node.name} did not answer /readyz within 180 s of its restart`);
}
