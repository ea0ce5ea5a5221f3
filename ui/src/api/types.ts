/** Names for the generated wire types (generated.ts), so views never spell schema paths. */
import type { components, paths } from './generated.ts';

type Schemas = components['schemas'];
export type Machine = Schemas['Machine'];
export type Job = Schemas['Job'];
export type IngotEvent = Schemas['Event'];
export type Subnet = Schemas['Subnet'];
export type Token = Schemas['Token'];
export type ErrorBody = Schemas['Error'];
export type Image = Schemas['Image'];
/** An action's `params` (deploy: image, userData, sshKeys, disk, networkConfig; release: wipe; …). */
export type ActionParams = Record<string, unknown>;

export type MachineState = Machine['state'];
export type PowerState = Machine['powerState'];
export type Action = Machine['allowedActions'][number];
export type Role = Token['role'];

export type MachinePage = paths['/api/v1/machines']['get']['responses'][200]['content']['application/json'];
export type MachineQuery = NonNullable<paths['/api/v1/machines']['get']['parameters']['query']>;
export type ActionResult =
  paths['/api/v1/machines/{id}/actions/{action}']['post']['responses'][202]['content']['application/json'];
export type IpAllocation =
  paths['/api/v1/subnets/{id}/addresses']['get']['responses'][200]['content']['application/json'][number];
export type SubnetRange = Subnet['ranges'][number];
