/**
 * The bed's API from the host's namespace, for clients such as @kubernetes/client-node: a
 * forwarder in the hub namespace (forward.ts) on a Unix socket in the bed's directory, and a
 * loopback TCP listener here piping into it. The API server's certificate names 127.0.0.1
 * (the bed's Cluster file lists it in certSANs).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { stopPid } from '../../host/process.ts';
import type { BedState } from './bed.ts';

export interface ApiAccess {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** The admin kubeconfig's credentials, base64 as in a kubeconfig. */
  readonly caData: string;
  readonly certData: string;
  readonly keyData: string;
  close(): Promise<void>;
}

export async function apiAccess(s: BedState, root: string): Promise<ApiAccess> {
  const sock = join(root, s.name, 'api.sock');
  const fwd = spawn(
    'ip',
    [
      'netns',
      'exec',
      s.hubNs,
      process.execPath,
      join(import.meta.dirname, 'forward.ts'),
      sock,
      s.endpoint,
      '6443',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(50);
  if (!existsSync(sock)) {
    await stopPid(fwd.pid);
    throw new Error('the API forwarder did not start');
  }
  const server = createServer((c) => {
    const up = connect(sock);
    c.pipe(up).pipe(c);
    const close = () => {
      c.destroy();
      up.destroy();
    };
    c.on('error', close);
    up.on('error', close);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  const kc = parse(s.adminKubeconfig) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  return {
    server: `https://127.0.0.1:${port}`,
    caData: kc.clusters[0].cluster['certificate-authority-data'],
    certData: kc.users[0].user['client-certificate-data'],
    keyData: kc.users[0].user['client-key-data'],
    close: async () => {
      server.close();
      await stopPid(fwd.pid, 1000);
    },
  };
}
