/**
 * A lab cluster's API, shared by test/lab-cluster.test.ts and bench/lab-cluster.ts: the
 * external load balancer of `mode: external` (a TCP forwarder on the endpoint address, in the
 * lab's rack-side namespace, to the control plane's :6443), the same endpoint from the host's
 * namespace (a Unix-socket forward plus a loopback listener, as the test bed's API), and a
 * Kubernetes port for the region that reaches the endpoint through it.
 */
import { type ChildProcess, execFile as execFileCb, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { stopPid } from '../../src/host/process.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubePort } from '../../src/kube/port.ts';
import type { LabNetwork } from '../../src/lab/netns.ts';

const execFile = promisify(execFileCb);
const FORWARD = new URL('../../src/lab/testbed/forward.ts', import.meta.url).pathname;

/** examples/lab-cluster.yaml's endpoint (the first address after the lab subnet's reserved .1-.9) and its node's (the next). */
export const LAB_ENDPOINT = '10.77.0.10';
export const LAB_NODE_IP = '10.77.0.11';

export interface LabApi {
  /** https://127.0.0.1:PORT: the endpoint from the host's namespace. */
  readonly fromHost: string;
  close(): Promise<void>;
}

/** A region's Kubernetes client whose kubeconfigs' `https://ENDPOINT:6443` is `server()` instead. */
export function forwardedKube(server: () => string, endpoint = LAB_ENDPOINT): KubePort {
  const real = new KubeClient();
  const rewrite = (k: string) => k.split(`https://${endpoint}:6443`).join(server());
  return new Proxy(real, {
    get: (t, p) => {
      const v = (t as unknown as Record<string | symbol, unknown>)[p];
      return typeof v === 'function'
        ? (k: string, ...a: unknown[]) => (v as (...x: unknown[]) => unknown).call(t, rewrite(k), ...a)
        : v;
    },
  }) as unknown as KubePort;
}

/** Starts the load balancer and the host's forward; `close` stops both (by PID) and the listener. */
export async function startLabApi(net: LabNetwork, work: string): Promise<LabApi> {
  const procs: ChildProcess[] = [];
  let loopback: Server | null = null;
  const close = async () => {
    for (const p of procs) await stopPid(p.pid ?? null).catch(() => undefined);
    loopback?.close();
  };
  try {
    await execFile('ip', [
      'netns',
      'exec',
      net.provNs,
      'ip',
      'addr',
      'replace',
      `${LAB_ENDPOINT}/24`,
      'dev',
      'prov0',
    ]);
    const inProv = (listen: string, host: string) =>
      spawn('ip', ['netns', 'exec', net.provNs, process.execPath, FORWARD, listen, host, '6443'], {
        stdio: 'ignore',
      });
    procs.push(inProv(`${LAB_ENDPOINT}:6443`, LAB_NODE_IP));
    const sock = join(work, 'api.sock');
    procs.push(inProv(sock, LAB_ENDPOINT));
    for (let i = 0; i < 200 && !existsSync(sock); i++) await sleep(50);
    if (!existsSync(sock)) throw new Error(`the API forward did not listen on ${sock} within 10 s`);
    const server = createServer((c) => {
      const up = connect(sock);
      c.pipe(up).pipe(c);
      const end = () => {
        c.destroy();
        up.destroy();
      };
      c.on('error', end);
      up.on('error', end);
    });
    loopback = server;
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    return { fromHost: `https://127.0.0.1:${(server.address() as { port: number }).port}`, close };
  } catch (e) {
    await close();
    throw e;
  }
}
