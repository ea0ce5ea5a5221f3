/**
 * The TFTP server against real clients on loopback: tftp-hpa (plain RFC 1350) and atftp
 * (blksize, tsize, windowsize) fetching Debian's iPXE binaries (package ipxe), refusals, and
 * a transfer that finishes intact while garbage is thrown at the server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { decodeTftp, Op, requestPacket, TftpErr } from '../src/netboot/tftp/packet.ts';
import { startTftpServer, type TftpServer } from '../src/netboot/tftp/index.ts';
import { openStore } from '../src/store/open.ts';
import type { SqlStore } from '../src/store/sql-store.ts';
import type { NewEvent } from '../src/core/event.ts';
import type { Store } from '../src/store/store.ts';
import type { IpAllocation } from '../src/store/types.ts';

const run = promisify(execFile);
const IPXE = '/usr/lib/ipxe';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let store: SqlStore;
let tftp: TftpServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ingot-tftp-'));
  store = await openStore({ dataDir: join(dir, 'store') });
  tftp = await startTftpServer({
    root: IPXE,
    bind: { address: '127.0.0.1', port: 0 },
    store,
    logger: pino({ level: 'silent' }),
  });
});

after(async () => {
  await tftp.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends one raw packet to the server's port and returns the first answer (or null). */
function ask(packet: Buffer, waitMs = 500): Promise<ReturnType<typeof decodeTftp> | null> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, waitMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(decodeTftp(m));
    });
    s.send(packet, tftp.port, '127.0.0.1');
  });
}

describe('TFTP server with real clients', () => {
  it('sends undionly.kpxe to tftp-hpa (512-byte blocks) intact', async () => {
    const out = join(dir, 'hpa.kpxe');
    await run('tftp', ['-m', 'binary', '127.0.0.1', String(tftp.port), '-c', 'get', 'undionly.kpxe', out], {
      timeout: 20_000,
    });
    assert.equal(sha(readFileSync(out)), sha(readFileSync(join(IPXE, 'undionly.kpxe'))));
  });

  it('negotiates blksize, tsize and windowsize with atftp and sends the file intact', async () => {
    for (const [blksize, window] of [
      ['1468', '1'],
      ['1468', '8'],
      ['8192', '4'],
    ]) {
      const out = join(dir, `atftp-${blksize}-${window}.efi`);
      const { stdout, stderr } = await run(
        'atftp',
        [
          '--trace',
          '--option',
          `blksize ${blksize}`,
          '--option',
          'tsize 0',
          '--option',
          `windowsize ${window}`,
          '-g',
          '-r',
          'snponly.efi',
          '-l',
          out,
          '127.0.0.1',
          String(tftp.port),
        ],
        { timeout: 20_000 },
      );
      assert.equal(
        sha(readFileSync(out)),
        sha(readFileSync(join(IPXE, 'snponly.efi'))),
        `${blksize}/${window}`,
      );
      const oack = /received OACK <([^>]*)>/.exec(stdout + stderr)?.[1] ?? '';
      assert.match(oack, new RegExp(`blksize: ${blksize}`));
      assert.match(oack, new RegExp(`windowsize: ${window}`));
      assert.match(oack, /tsize: 173792/);
    }
  });

  it('answers tsize in the OACK with the file size', async () => {
    const r = await ask(requestPacket('undionly.kpxe', new Map([['tsize', '0']])));
    assert.equal(r?.op, Op.Oack);
    assert.equal(
      r?.op === Op.Oack && r.options.get('tsize'),
      String(readFileSync(join(IPXE, 'undionly.kpxe')).length),
    );
  });

  it('refuses path traversal, files outside the allow list, writes and netascii', async () => {
    for (const name of ['../../etc/passwd', '/../../etc/passwd', 'qemu/../undionly.kpxe', 'ipxe.lkrn']) {
      const r = await ask(requestPacket(name));
      assert.equal(r?.op, Op.Error, name);
      assert.equal(r?.op === Op.Error && r.code, TftpErr.AccessViolation, name);
    }
    await assert.rejects(
      run('atftp', ['-g', '-r', '../../etc/passwd', '-l', join(dir, 'x'), '127.0.0.1', String(tftp.port)], {
        timeout: 10_000,
      }),
    );
    const wrq = requestPacket('undionly.kpxe');
    wrq[1] = Op.Wrq;
    const w = await ask(wrq);
    assert.equal(w?.op === Op.Error && w.code, TftpErr.AccessViolation);
    const n = await ask(requestPacket('undionly.kpxe', new Map(), 'netascii'));
    assert.equal(n?.op === Op.Error && n.code, TftpErr.IllegalOperation);
  });

  it('drops oversized and malformed packets without answering', async () => {
    assert.equal(await ask(Buffer.alloc(4000, 1), 200), null);
    assert.equal(await ask(Buffer.from([0, 1, 0x61]), 200), null);
    assert.equal(await ask(Buffer.from([0, 9, 0, 0]), 200), null);
  });

  it('finishes a transfer intact while garbage hits the server and the transfer port', async () => {
    const out = join(dir, 'storm.efi');
    const fetch = run(
      'atftp',
      ['--option', 'blksize 512', '-g', '-r', 'snponly.efi', '-l', out, '127.0.0.1', String(tftp.port)],
      { timeout: 30_000 },
    );
    const noise = dgram.createSocket('udp4');
    const garbage = [
      Buffer.alloc(4000, 0xff),
      Buffer.from([0, 4]),
      Buffer.from([0, 1, 0x2e, 0x2e, 0x2f]),
      Buffer.from([0, 5, 0, 1]),
      Buffer.from([0, 4, 0, 7]),
    ];
    let sent = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 50; i++) {
        noise.send(garbage[sent++ % garbage.length], tftp.port, '127.0.0.1');
      }
    }, 2);
    try {
      await fetch;
    } finally {
      clearInterval(timer);
      noise.close();
    }
    assert.ok(sent > 100, `${sent} garbage packets`);
    assert.equal(sha(readFileSync(out)), sha(readFileSync(join(IPXE, 'snponly.efi'))));
  });

  it('puts a known machine’s fetch on its timeline', async () => {
    const s = await store.createSubnet(
      {
        name: 'lo',
        cidr: '127.0.0.0/24',
        gateway: null,
        dns: [],
        vlan: null,
        dhcpMode: 'off',
        autoEnlist: false,
        ranges: [],
      },
      't',
    );
    const m = await store.createMachine(
      {
        hostname: 'tftp1',
        arch: 'amd64',
        bmc: null,
        nics: [{ mac: '52:54:00:7f:00:01', boot: true }],
        tags: [],
        zone: 'z',
        rack: 'r',
        pool: 'p',
      },
      't',
    );
    await store.allocateIp(s.id, {
      machineId: m.id,
      mac: '52:54:00:7f:00:01',
      ip: '127.0.0.1',
      kind: 'static',
    });
    const out = join(dir, 'tl.kpxe');
    await run('tftp', ['-m', 'binary', '127.0.0.1', String(tftp.port), '-c', 'get', 'undionly.kpxe', out], {
      timeout: 20_000,
    });
    let ev: Awaited<ReturnType<SqlStore['listEvents']>> = [];
    for (let i = 0; i < 30 && ev.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ev = (await store.listEvents({ machineId: m.id, limit: 10 })).filter((e) => e.type === 'tftp.fetch');
    }
    assert.equal(ev.length, 1);
    assert.equal(ev[0].data.file, 'undionly.kpxe');
    assert.equal(ev[0].data.ok, true);
    writeFileSync(join(dir, 'done'), '');
  });

  it('sends the file while the store has not yet said which machine asked, then records the fetch', async () => {
    let answer = (_: IpAllocation[]) => {};
    const events: NewEvent[] = [];
    const slow = {
      findIpsByAddress: () => new Promise<IpAllocation[]>((r) => (answer = r)),
      appendEvents: async (e: NewEvent[]) => void events.push(...e),
    } as unknown as Store;
    const server = await startTftpServer({
      root: IPXE,
      bind: { address: '127.0.0.1', port: 0 },
      store: slow,
      logger: pino({ level: 'silent' }),
    });
    try {
      const out = join(dir, 'slow-store.kpxe');
      await run(
        'tftp',
        ['-m', 'binary', '127.0.0.1', String(server.port), '-c', 'get', 'undionly.kpxe', out],
        {
          timeout: 20_000,
        },
      );
      assert.equal(sha(readFileSync(out)), sha(readFileSync(join(IPXE, 'undionly.kpxe'))));
      answer([{ machineId: 'm-slow' } as IpAllocation]);
    } finally {
      await server.close();
    }
    assert.deepEqual(
      events.map((e) => [e.type, e.machineId]),
      [['tftp.fetch', 'm-slow']],
    );
  });
});
