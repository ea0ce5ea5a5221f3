/**
 * Virtual media: real BMCs put it under Managers with InsertMedia/EjectMedia actions; some (and
 * the DMTF rackmount mockup) put it under Systems with no actions, where a PATCH of Image and
 * Inserted does the same. Both are handled.
 */
import { type Json, type RedfishClient, statusOf } from './client.ts';

const link = (v: unknown): string | undefined => (v as Json | undefined)?.['@odata.id'];

/** Path of the CD/DVD virtual media slot, or null when the BMC has none. */
export async function findVirtualMedia(client: RedfishClient, sys: Json, op: string): Promise<string | null> {
  const collections: string[] = [];
  for (const m of (sys.Links?.ManagedBy as Json[] | undefined) ?? []) {
    const manager = (await client.get(link(m)!, op)).body;
    if (link(manager.VirtualMedia)) collections.push(link(manager.VirtualMedia)!);
  }
  if (link(sys.VirtualMedia)) collections.push(link(sys.VirtualMedia)!);
  for (const c of collections) {
    let members: Json[];
    try {
      members = await client.members(c, op);
    } catch (e) {
      if (statusOf(e) === 404) continue;
      throw e;
    }
    const slots = await Promise.all(members.map((m) => client.get(link(m)!, op).then((r) => r.body)));
    const cd = slots.find((s) =>
      ((s.MediaTypes as string[] | undefined) ?? []).some((t) => t === 'CD' || t === 'DVD'),
    );
    if (cd) return link(cd) ?? null;
  }
  return null;
}

export async function insertMedia(
  client: RedfishClient,
  path: string,
  image: string,
  op: string,
): Promise<void> {
  let { body, etag } = await client.get(path, op);
  if (body.Inserted === true) {
    await ejectMedia(client, path, op, body);
    ({ body, etag } = await client.get(path, op));
  }
  const action = body.Actions?.['#VirtualMedia.InsertMedia']?.target;
  if (action) await client.post(action, { Image: image, Inserted: true, WriteProtected: true }, op);
  else await client.patch(path, { Image: image, Inserted: true }, op, etag);
}

export async function ejectMedia(
  client: RedfishClient,
  path: string,
  op: string,
  current?: Json,
): Promise<void> {
  const res = current ? { body: current, etag: undefined } : await client.get(path, op);
  if (res.body.Inserted === false) return;
  const action = res.body.Actions?.['#VirtualMedia.EjectMedia']?.target;
  if (action) await client.post(action, {}, op);
  else await client.patch(path, { Image: null, Inserted: false }, op, res.etag);
}
