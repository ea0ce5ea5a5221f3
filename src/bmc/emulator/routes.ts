/**
 * Resource routes of the virtual BMC, below /redfish/v1. Sessions and authentication live in
 * server.ts; here every request is already authenticated.
 */
import type { FaultInjector } from './faults.ts';
import * as res from './resources.ts';
import { ResetTypes, type EmulatedSystem, type ResetType } from './system.ts';

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface RouteRequest {
  readonly method: string;
  /** Path below /redfish/v1, no trailing slash (`/Systems/sys-0001`). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly ifMatch: string | undefined;
}

export interface EmulatorModel {
  readonly uuid: string;
  readonly systems: ReadonlyMap<string, EmulatedSystem>;
  readonly pageSize: number;
  readonly faults: FaultInjector;
}

const json = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });
const noContent: Reply = { status: 204 };

export function errorReply(
  status: number,
  id: string,
  message: string,
  resolution: string,
  args: string[] = [],
): Reply {
  return { status, body: res.redfishError(id, message, resolution, args) };
}

function notFound(path: string): Reply {
  return errorReply(
    404,
    'ResourceMissingAtURI',
    `The resource at the URI ${res.R}${path} was not found.`,
    'Place a valid resource at the URI or correct the URI and resubmit the request.',
    [`${res.R}${path}`],
  );
}

function badMethod(req: RouteRequest): Reply {
  return errorReply(
    405,
    'OperationNotAllowed',
    `${req.method} is not allowed on ${res.R}${req.path}.`,
    'Use a method the resource supports (see the Allow header).',
  );
}

function badValue(prop: string, value: unknown): Reply {
  return errorReply(
    400,
    'PropertyValueNotInList',
    `The value ${JSON.stringify(value)} for the property ${prop} is not in the list of acceptable values.`,
    'Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.',
    [JSON.stringify(value), prop],
  );
}

function preconditionFailed(path: string): Reply {
  return errorReply(
    412,
    'PreconditionFailed',
    `The ETag supplied did not match the ETag required to change ${res.R}${path}.`,
    'Try the operation again using the appropriate ETag.',
  );
}

function etagMatches(ifMatch: string | undefined, etag: string): boolean {
  if (ifMatch === undefined || ifMatch.trim() === '*') return true;
  return ifMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function asObject(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export async function route(model: EmulatorModel, req: RouteRequest): Promise<Reply> {
  const parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
  const [top, id, sub, ...rest] = parts;
  const get = req.method === 'GET' || req.method === 'HEAD';
  if (parts.length === 0) return get ? json(res.serviceRoot(model.uuid)) : badMethod(req);
  const ids = [...model.systems.keys()];
  if (parts.length === 1 && ['Systems', 'Managers', 'Chassis'].includes(top)) {
    if (!get) return badMethod(req);
    const skip = Number(req.query.get('$skip') ?? 0) || 0;
    const type =
      top === 'Systems'
        ? 'ComputerSystemCollection'
        : top === 'Managers'
          ? 'ManagerCollection'
          : 'ChassisCollection';
    return json(
      res.collection(
        type,
        `${res.R}/${top}`,
        ids.map((i) => `${res.R}/${top}/${i}`),
        skip,
        model.pageSize,
      ),
    );
  }
  if (top === 'UpdateService') return get ? updateService(req, parts) : badMethod(req);
  const s = id === undefined ? undefined : model.systems.get(id);
  if (!s) return notFound(req.path);
  if (top === 'Systems') return systemRoute(s, req, sub, rest);
  if (top === 'Managers') return managerRoute(s, req, sub, rest);
  if (top === 'Chassis') {
    if (!get) return badMethod(req);
    const on = await s.target.isOn();
    if (sub === undefined) return json(res.chassis(s));
    if (sub === 'Thermal' && rest.length === 0) return json(res.thermal(s, on));
    if (sub === 'Power' && rest.length === 0) return json(res.power(s, on));
  }
  return notFound(req.path);
}

function updateService(req: RouteRequest, parts: string[]): Reply {
  const p = `${res.R}/UpdateService`;
  if (parts.length === 1)
    return json({
      '@odata.type': '#UpdateService.v1_8_0.UpdateService',
      '@odata.id': p,
      Id: 'UpdateService',
      Name: 'Update service',
      FirmwareInventory: { '@odata.id': `${p}/FirmwareInventory` },
    });
  if (parts[1] !== 'FirmwareInventory') return notFound(req.path);
  if (parts.length === 2)
    return json(
      res.collection('SoftwareInventoryCollection', `${p}/FirmwareInventory`, [
        `${p}/FirmwareInventory/BMC`,
        `${p}/FirmwareInventory/BIOS`,
      ]),
    );
  if (parts.length === 3 && (parts[2] === 'BMC' || parts[2] === 'BIOS')) return json(res.firmware(parts[2]));
  return notFound(req.path);
}

async function systemRoute(
  s: EmulatedSystem,
  req: RouteRequest,
  sub: string | undefined,
  rest: string[],
): Promise<Reply> {
  const p = `${res.R}/Systems/${s.id}`;
  if (sub === undefined) {
    if (req.method === 'PATCH') return patchSystem(s, req);
    if (req.method !== 'GET') return badMethod(req);
    let on = await s.target.isOn();
    if (s.lieAboutPowerOnce) {
      s.lieAboutPowerOnce = false;
      on = !on;
    }
    return json(res.system(s, on), { ETag: s.etag });
  }
  if (sub === 'Actions' && rest[0] === 'ComputerSystem.Reset' && rest.length === 1) {
    if (req.method !== 'POST') return badMethod(req);
    const type = asObject(req.body)?.ResetType;
    if (type === undefined)
      return errorReply(
        400,
        'ActionParameterMissing',
        'The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.',
        'Supply the action with the required parameter in the request body when the request is resubmitted.',
        ['ComputerSystem.Reset', 'ResetType'],
      );
    if (!(ResetTypes as readonly unknown[]).includes(type))
      return errorReply(
        400,
        'ActionParameterNotSupported',
        `The parameter ResetType=${JSON.stringify(type)} for the action ComputerSystem.Reset is not supported on the target resource.`,
        'Remove the parameter supplied and resubmit the request if the operation failed.',
        [String(type), 'ComputerSystem.Reset'],
      );
    await s.reset(type as ResetType);
    return noContent;
  }
  if (req.method !== 'GET') return badMethod(req);
  const path = [sub, ...rest].join('/');
  switch (path) {
    case 'EthernetInterfaces':
      return json(
        res.collection(
          'EthernetInterfaceCollection',
          `${p}/EthernetInterfaces`,
          s.macs.map((_, i) => `${p}/EthernetInterfaces/nic${i}`),
        ),
      );
    case 'EthernetInterfaces/nic0':
    case 'EthernetInterfaces/nic1':
      return json(res.nic(s, Number(path.at(-1))));
    case 'Storage':
      return json(res.collection('StorageCollection', `${p}/Storage`, [`${p}/Storage/1`]));
    case 'Storage/1':
      return json(res.storage(s));
    case 'Storage/1/Drives/0':
      return json(res.drive(s));
    case 'LogServices':
      return json(res.collection('LogServiceCollection', `${p}/LogServices`, [`${p}/LogServices/SEL`]));
    case 'LogServices/SEL':
      return json(res.logService(s));
    case 'LogServices/SEL/Entries':
      return json(res.logEntries(s));
  }
  return notFound(req.path);
}

function patchSystem(s: EmulatedSystem, req: RouteRequest): Reply {
  if (!etagMatches(req.ifMatch, s.etag)) return preconditionFailed(req.path);
  const body = asObject(req.body);
  if (!body)
    return errorReply(
      400,
      'MalformedJSON',
      'The request body submitted was malformed JSON.',
      'Ensure that the request body is valid JSON and resubmit the request.',
    );
  for (const key of Object.keys(body)) {
    if (key !== 'Boot')
      return errorReply(
        400,
        'PropertyNotWritable',
        `The property ${key} is a read only property and cannot be assigned a value.`,
        'Remove the property from the request body and resubmit the request if the operation failed.',
        [key],
      );
  }
  const boot = asObject(body.Boot);
  if (!boot) return badValue('Boot', body.Boot);
  const bad = s.patchBoot(boot);
  if (bad) return badValue(`Boot/${bad}`, boot[bad]);
  return noContent;
}

function managerRoute(s: EmulatedSystem, req: RouteRequest, sub: string | undefined, rest: string[]): Reply {
  const p = `${res.R}/Managers/${s.id}/VirtualMedia`;
  if (sub === undefined) return req.method === 'GET' ? json(res.manager(s)) : badMethod(req);
  if (sub !== 'VirtualMedia') return notFound(req.path);
  if (rest.length === 0)
    return req.method === 'GET'
      ? json(res.collection('VirtualMediaCollection', p, [`${p}/Cd`]))
      : badMethod(req);
  if (rest[0] !== 'Cd') return notFound(req.path);
  if (rest.length === 1) {
    if (req.method === 'GET') return json(res.virtualMedia(s), { ETag: s.etag });
    if (req.method !== 'PATCH') return badMethod(req);
    if (!etagMatches(req.ifMatch, s.etag)) return preconditionFailed(req.path);
    const body = asObject(req.body) ?? {};
    if (body.Inserted === false || body.Image === null) s.ejectMedia();
    else if (typeof body.Image === 'string') s.insertMedia(body.Image);
    else return badValue('Image', body.Image);
    return noContent;
  }
  if (req.method !== 'POST' || rest[1] !== 'Actions' || rest.length !== 3)
    return rest[1] === 'Actions' ? badMethod(req) : notFound(req.path);
  if (rest[2] === 'VirtualMedia.EjectMedia') {
    s.ejectMedia();
    return noContent;
  }
  if (rest[2] !== 'VirtualMedia.InsertMedia') return notFound(req.path);
  const image = asObject(req.body)?.Image;
  if (typeof image !== 'string' || image === '')
    return errorReply(
      400,
      'ActionParameterMissing',
      'The action VirtualMedia.InsertMedia requires the parameter Image to be present in the request body.',
      'Supply the action with the required parameter in the request body when the request is resubmitted.',
      ['VirtualMedia.InsertMedia', 'Image'],
    );
  s.insertMedia(image);
  return noContent;
}
