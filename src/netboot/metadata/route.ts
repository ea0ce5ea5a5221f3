/**
 * The metadata service on the boot HTTP server:
 * - cloud-init NoCloud-net, seed URL `http://RACK/metadata/<token>/` (token in the path) or
 *   `http://RACK/metadata/` with an `X-Ingot-Token` header: `meta-data`, `user-data`, `vendor-data`.
 * - EC2-style: `/latest/meta-data/<key>`, `/latest/user-data` (also `/<YYYY-MM-DD>/…`), token
 *   in `X-Ingot-Token`, `Authorization: Bearer` or `X-aws-ec2-metadata-token`.
 * There is deliberately no `PUT /latest/api/token`: it would hand a token to anyone who can
 * reach the server, and the source address alone does not identify a machine.
 */
import { ErrorCode } from '../../core/errors.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BootContext } from '../http/context.ts';
import { sendRefusal, sendText } from '../http/context.ts';
import { BootEvent } from '../urls.ts';
import { authorizeMachine } from '../http/authorize.ts';
import {
  defaultMetadataSource,
  ec2Lookup,
  ec2Tree,
  type MetadataSource,
  nocloudMetaData,
} from './documents.ts';

const METADATA = {
  name: 'metadata',
  deniedEvent: BootEvent.MetadataDenied,
  tokenHint: 'put it in the path (/metadata/<token>/) or the X-Ingot-Token header',
};

const NOCLOUD = /^\/metadata\/(?:([A-Za-z0-9_-]{16,128})\/)?(meta-data|user-data|vendor-data)$/;
const EC2 = /^\/(?:latest|\d{4}-\d{2}-\d{2})\/(meta-data(?:\/.*)?|user-data)$/;

export type MetadataRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: BootContext,
) => Promise<boolean>;

export function metadataRoute(source: MetadataSource = defaultMetadataSource): MetadataRoute {
  return async (req, res, url, ctx) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const p = url.pathname;
    const nc = NOCLOUD.exec(p);
    const ec = nc ? null : EC2.exec(p);
    if (!nc && !ec) return false;
    const shown = nc?.[1] ? p.replace(nc[1], '<token>') : p;
    const ok = await authorizeMachine(req, res, shown, nc?.[1] ?? null, ctx, METADATA);
    if (!ok) return true;
    const { machine, ip } = ok;
    let body: string | null;
    const doc = nc ? nc[2] : ec![1] === 'user-data' ? 'user-data' : 'meta-data';
    if (doc === 'user-data') body = (await source.userData(machine)) ?? '#cloud-config\n{}\n';
    else if (doc === 'vendor-data') body = (await source.vendorData(machine)) ?? '';
    else if (nc) body = nocloudMetaData(machine, (await source.publicKeys?.(machine)) ?? []);
    else
      body = ec2Lookup(
        ec2Tree(machine, ip, (await source.publicKeys?.(machine)) ?? []),
        ec![1].slice('meta-data'.length),
      );
    ctx.events.push({
      type: BootEvent.Metadata,
      actor: 'rack',
      machineId: machine.id,
      level: body === null ? 'warning' : 'info',
      message: `metadata ${shown} from ${ip}: ${body === null ? 404 : 200}`,
      data: { path: shown, ip, status: body === null ? 404 : 200, style: nc ? 'nocloud' : 'ec2' },
    });
    if (body === null) sendRefusal(res, ErrorCode.NotFound, `no metadata key ${shown}\n`);
    else sendText(res, 200, body);
    return true;
  };
}
