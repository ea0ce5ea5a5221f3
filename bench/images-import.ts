/**
 * Image import throughput: a raw disk image streamed into the registry (hash + sparse write +
 * magic checks), from a local file and from a loopback HTTP URL. Usage:
 *   node bench/images-import.ts [IMAGE]   (default: a 1 GiB file, half zeros)
 */
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageRegistry } from '../src/images/registry.ts';
import { openStore } from '../src/store/open.ts';

const dir = mkdtempSync(join(tmpdir(), 'ingot-bench-images-'));
try {
  let image = process.argv[2];
  if (!image) {
    image = join(dir, 'disk.raw');
    const chunk = Buffer.alloc(2 ** 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
    const parts: Buffer[] = [];
    for (let i = 0; i < 1024; i++) parts.push(i % 2 ? Buffer.alloc(2 ** 20) : chunk);
    writeFileSync(image, Buffer.concat(parts));
  }
  const size = statSync(image).size;
  const store = await openStore({ dataDir: join(dir, 'data') });
  const reg = new ImageRegistry(store, join(dir, 'artifacts'), { sources: { allowPrivate: ['127.0.0.1'] } });
  const mib = size / 2 ** 20;

  let t = process.hrtime.bigint();
  await reg.importStream(
    { name: 'from-file' },
    createReadStream(image, { highWaterMark: 4 * 2 ** 20 }),
    'bench',
  );
  let s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(`file   ${mib.toFixed(0)} MiB in ${s.toFixed(2)} s = ${(mib / s).toFixed(0)} MiB/s`);

  const srv = createServer((_req, res) => createReadStream(image).pipe(res));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  t = process.hrtime.bigint();
  const { done } = await reg.importUrl(
    { name: 'from-url', url: `http://127.0.0.1:${port}/disk.raw` },
    'bench',
  );
  const img = await done;
  s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(
    `url    ${mib.toFixed(0)} MiB in ${s.toFixed(2)} s = ${(mib / s).toFixed(0)} MiB/s (${img.status})`,
  );
  await new Promise((r) => srv.close(r));
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
