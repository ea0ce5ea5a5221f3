/** One QMP command over QEMU's unix socket (`system_powerdown`, `qom-set` of a device property). */
import { connect } from 'node:net';

export function qmpCommand(
  socket: string,
  command: string,
  timeoutMs = 2000,
  args?: Record<string, unknown>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let buf = '';
    let step = 0;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`QMP ${command} timed out on ${socket}`));
    }, timeoutMs);
    const done = (e?: Error) => {
      clearTimeout(timer);
      s.destroy();
      if (e) reject(e);
      else resolve();
    };
    s.on('error', (e) => done(e));
    s.on('data', (d) => {
      buf += d.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        if (step === 0 && msg.QMP) {
          step = 1;
          s.write('{"execute":"qmp_capabilities"}\n');
        } else if (step === 1 && 'return' in msg) {
          step = 2;
          s.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
        } else if (step === 2 && 'return' in msg) done();
        else if ('error' in msg) done(new Error(`QMP ${command}: ${JSON.stringify(msg.error)}`));
      }
    });
  });
}
