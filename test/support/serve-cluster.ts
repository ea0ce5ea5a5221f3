/**
 * What the kill -9 tests of cluster workflows share (cluster-crash-resume, cluster-operation-crash):
 * a poll with the region's log in its failure, and an `ingot serve` child seeded for a simulated
 * cluster — the node subnet, the node image (any bytes: fake:// machines only pretend to write
 * it) and three commissioned fake:// machines (control, general, general).
 */
import assert from 'node:assert/strict';
import { nodeSubnet } from './cluster-seed.ts';
import type { ServeProcess } from './serve-process.ts';

export async function until<T>(
  f: () => Promise<T | null | false>,
  ms: number,
  what: string,
  log: () => string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Seeds `s` for a simulated cluster on `net`; machines `<prefix>-0..2`, MACs `02:00:00:00:<macByte>:0i`. Their ids. */
export async function seedServeCluster(
  s: ServeProcess,
  o: { net: string; prefix: string; bmc: string; macByte: string },
): Promise<string[]> {
  await s.api('POST', '/api/v1/subnets', nodeSubnet(o.net));
  const up = await s.fetch(`${s.url}/api/v1/images/kubernetes-node`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(64 * 1024, 1),
  });
  assert.ok(up.ok, await up.text());
  const ids: string[] = [];
  for (const [i, pool] of ['control', 'general', 'general'].entries()) {
    const m = await s.api<{ id: string }>('POST', '/api/v1/machines', {
      hostname: `${o.prefix}-${i}`,
      pool,
      bmc: { address: `fake://${o.bmc}-${i}`, username: 'admin', password: 'pw' },
      nics: [{ mac: `02:00:00:00:${o.macByte}:0${i}` }],
    });
    ids.push(m.id);
    await s.api('POST', `/api/v1/machines/${m.id}/actions/commission`, {});
  }
  await until(
    async () => (await s.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).total === 3,
    30_000,
    '3 ready machines',
    s.log,
  );
  await until(
    async () =>
      (await s.api<{ status: string }[]>('GET', '/api/v1/images')).every((i) => i.status === 'ready'),
    30_000,
    'the image',
    s.log,
  );
  return ids;
}
