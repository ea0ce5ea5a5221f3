/**
 * Run inside the bed's hub namespace: listens on a Unix socket and pipes each connection to
 * HOST:PORT (the API's load balancer). The socket is a file, so a process in the host's
 * namespace reaches the bed's API through it without the bed touching the host's network.
 *   node forward.ts SOCKET HOST PORT
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
  server.listen(sock, () => process.stdout.write('listening\n'));
}
