/**
 * Run inside the bed's hub namespace: listens on a Unix socket and pipes each connection to
 * HOST:PORT (the API's load balancer). The socket is a file, so a process in the host's
 * namespace reaches the bed's API through it without the bed touching the host's network.
 * LISTEN may also be `IP:PORT` (a TCP listener: the lab cluster's API load balancer).
 *   node forward.ts LISTEN HOST PORT
 */
import { connect, createServer } from 'node:net';

if (import.meta.main) {
  const [sock, host, port] = process.argv.slice(2);
  const server = createServer((c) => {
    const up = connect(Number(port), host);
    c.pipe(up).pipe(c);
    const close = () => {
      c.destroy();
      up.destroy();
    };
    c.on('error', close);
    up.on('error', close);
  });
  const tcp = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(sock);
  if (tcp) server.listen(Number(tcp[2]), tcp[1], () => process.stdout.write('listening\n'));
  else server.listen(sock, () => process.stdout.write('listening\n'));
}
