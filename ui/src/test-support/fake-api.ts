/**
 * A fake region for component tests: answers the API paths the console calls from an
 * in-memory list of machines, and holds the event stream open without events.
 */
import { ApiClient } from '../api/client.ts';
import type { Image, Machine, Token } from '../api/types.ts';

export function machine(over: Partial<Machine> = {}): Machine {
  const id = over.id ?? `m-${over.hostname ?? 'node-1'}`;
  return {
    id,
    hostname: 'node-1',
    arch: 'amd64',
    state: 'ready',
    stateReason: 'commission done',
    stateEnteredAt: '2026-11-22T10:00:00.000Z',
    powerState: 'off',
    bmc: { address: 'fake://bmc-1', username: 'admin' },
    nics: [{ mac: '52:54:00:00:00:01', boot: true }],
    disks: [{ name: 'sda', sizeBytes: 480e9 }],
    cpu: { cores: 8, threads: 16 },
    memoryBytes: 32 * 2 ** 30,
    tags: [],
    zone: 'az1',
    rack: 'r01',
    pool: 'default',
    owner: '',
    cluster: null,
    commissionedAt: null,
    allowedActions: [
      'commission',
      'allocate',
      'deploy',
      'power-on',
      'power-off',
      'power-cycle',
      'mark-broken',
      'retire',
    ],
    version: 1,
    createdAt: '2026-11-22T09:00:00.000Z',
    updatedAt: '2026-11-22T10:00:00.000Z',
    ...over,
  };
}

export function image(over: Partial<Image> = {}): Image {
  const name = over.name ?? 'debian-12';
  return {
    id: `i-${name}`,
    name,
    kind: 'os',
    format: 'raw',
    compression: 'zst',
    status: 'ready',
    statusReason: '',
    source: 'built',
    path: `images/${name}.raw.zst`,
    sha256: 'ab'.repeat(32),
    size: 236 * 2 ** 20,
    virtualSize: 1536 * 2 ** 20,
    manifest: {},
    createdAt: '2026-11-22T08:00:00.000Z',
    updatedAt: '2026-11-22T08:00:00.000Z',
    ...over,
  };
}

export function token(role: Token['role']): Token {
  return {
    id: `t-${role}`,
    name: role,
    role,
    createdAt: '2026-11-22T09:00:00.000Z',
    expiresAt: null,
    lastUsedAt: null,
    revoked: false,
  };
}

export function fakeClient(
  machines: Machine[],
  o: {
    role?: Token['role'];
    failAction?: (id: string) => string | null;
    images?: Image[];
    /** Sees each action request's body. */
    onAction?: (id: string, action: string, body: Record<string, unknown>) => void;
  } = {},
): ApiClient {
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), 'http://ingot.test');
    const path = url.pathname.replace('/api/v1', '');
    if (path === '/whoami') return json(200, token(o.role ?? 'admin'));
    if (path === '/machines') return json(200, { items: machines, next: null, total: machines.length });
    if (path === '/images') return json(200, o.images ?? []);
    const action = /^\/machines\/([^/]+)\/actions\/(.+)$/.exec(path);
    if (action && init?.method === 'POST') {
      o.onAction?.(action[1], action[2], JSON.parse(String(init.body ?? '{}')));
      const why = o.failAction?.(action[1]);
      if (why) return json(409, { code: 'INGOT_INVALID_TRANSITION', message: why, details: {} });
      const m = machines.find((x) => x.id === action[1])!;
      return json(202, { machine: m, job: null });
    }
    const one = /^\/machines\/([^/]+)$/.exec(path);
    if (one) {
      const m = machines.find((x) => x.id === one[1]);
      return m
        ? json(200, m)
        : json(404, { code: 'INGOT_NOT_FOUND', message: 'no such machine', details: {} });
    }
    return json(404, { code: 'INGOT_NOT_FOUND', message: `no route ${path}`, details: {} });
  };
  return new ApiClient('ingot_test', '', impl as typeof fetch);
}
