/**
 * The parameters an action's workflow takes, checked and normalised before anything changes:
 * an unknown key, a wrong type or a bad value is a validation error naming `params.<key>`.
 * Numbers may come as numeric strings and test lists as `a,b` (the CLI's `--param k=v`).
 * Pure: whether a named image exists is the engine's question (src/engine/actions.ts).
 */
import { invalid } from './errors.ts';
import { COMPRESSIONS, IMAGE_FORMATS, isImageName, isSha256 } from './image.ts';
import type { Action } from './lifecycle.ts';

export const HARDWARE_TESTS = ['smart', 'disk-read', 'memory', 'cpu'] as const;
export type HardwareTest = (typeof HARDWARE_TESTS)[number];

export const WIPE_MODES = ['quick', 'secure'] as const;
export type WipeMode = (typeof WIPE_MODES)[number];

/** cloud-init user-data larger than this is refused (it is served from the job's parameters). */
export const MAX_USER_DATA_BYTES = 256 * 1024;

/**
 * A network-config larger than this is refused: it travels in the write-image task and lands
 * in the deployed OS's cloud-init configuration (a rendered node's, bond and VLANs, is ~1 KiB).
 */
export const MAX_NETWORK_CONFIG_BYTES = 64 * 1024;

/** One OpenSSH public key line: type, base64 body, optional comment. */
const SSH_KEY =
  /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n\r]*)?$/;

type Check = (value: unknown, field: string) => unknown;

/** A value as a message shows it: JSON, cut short (the value may be a megabyte of junk). */
const shown = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
};

const count =
  (max: number): Check =>
  (v, field) => {
    const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max)
      throw invalid(field, `must be a whole number from 0 to ${max}, not ${shown(v)}`);
    return n;
  };

const oneOf =
  (allowed: readonly string[]): Check =>
  (v, field) => {
    if (typeof v !== 'string' || !allowed.includes(v))
      throw invalid(field, `must be one of ${allowed.join(', ')}, not ${shown(v)}`);
    return v;
  };

const tests: Check = (v, field) => {
  const list =
    typeof v === 'string'
      ? v
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : v;
  if (!Array.isArray(list)) throw invalid(field, `a list of tests (${HARDWARE_TESTS.join(', ')})`);
  list.forEach((t, i) => {
    if (!(HARDWARE_TESTS as readonly unknown[]).includes(t))
      throw invalid(`${field}[${i}]`, `unknown test ${shown(t)}; the tests are ${HARDWARE_TESTS.join(', ')}`);
  });
  return [...new Set(list as string[])];
};

/** A path under the rack's artifacts: plain segments, none starting with a dot (no `..`, no hidden files). */
const ARTIFACT_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const IMAGE_SPEC_KEYS = ['url', 'artifact', 'sha256', 'format', 'compression'];

const image: Check = (v, field) => {
  if (typeof v === 'string') {
    if (!isImageName(v))
      throw invalid(field, `${shown(v)} is not an image name; list images with \`ingot image ls\``);
    return v;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, 'an image name, or {url|artifact, sha256, format[, compression]}');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!IMAGE_SPEC_KEYS.includes(k))
      throw invalid(`${field}.${k}`, `not a field of an image spec; it takes ${IMAGE_SPEC_KEYS.join(', ')}`);
  if ((typeof o.url === 'string') === (typeof o.artifact === 'string'))
    throw invalid(
      `${field}.url`,
      'give either url or artifact (a path under the rack’s artifacts), not both',
    );
  const out: Record<string, unknown> = {};
  if (typeof o.url === 'string') {
    if (o.url.length > 2048 || !/^https?:\/\/\S+$/.test(o.url))
      throw invalid(`${field}.url`, 'must be an http:// or https:// URL of at most 2048 characters');
    out.url = o.url;
  } else {
    const artifact = o.artifact as string;
    if (artifact.length > 1024 || !artifact.split('/').every((s) => ARTIFACT_SEGMENT.test(s)))
      throw invalid(
        `${field}.artifact`,
        'must be a relative path under the rack’s artifacts such as images/debian-12.raw: segments of letters, digits, . _ -, none starting with a dot',
      );
    out.artifact = artifact;
  }
  if (typeof o.sha256 !== 'string' || !isSha256(o.sha256))
    throw invalid(`${field}.sha256`, 'required: the image file’s SHA-256, 64 lowercase hex digits');
  out.sha256 = o.sha256;
  out.format = oneOf(IMAGE_FORMATS)(o.format, `${field}.format`);
  if (o.compression !== undefined)
    out.compression = oneOf(COMPRESSIONS)(o.compression, `${field}.compression`);
  return out;
};

const userData: Check = (v, field) => {
  if (typeof v !== 'string')
    throw invalid(field, 'cloud-init user-data as text (#cloud-config, a script, …)');
  if (Buffer.byteLength(v) > MAX_USER_DATA_BYTES)
    throw invalid(field, `${Buffer.byteLength(v)} bytes; at most ${MAX_USER_DATA_BYTES}`);
  return v;
};

/**
 * Netplan v2 / cloud-init network-config v2 as one YAML document whose only top-level key is
 * `network:` (a netplan file; written as a cloud-init config file it sets nothing else). What it
 * says is checked by the real tools before a deploy is accepted (src/engine/network-config.ts).
 */
const networkConfig: Check = (v, field) => {
  if (typeof v !== 'string')
    throw invalid(field, 'netplan v2 YAML as text (network: {version: 2, ethernets: …})');
  const bytes = Buffer.byteLength(v);
  if (bytes > MAX_NETWORK_CONFIG_BYTES)
    throw invalid(field, `${bytes} bytes; at most ${MAX_NETWORK_CONFIG_BYTES}`);
  const top = v
    .split('\n')
    .filter((l) => /^[^\s#-]/.test(l) && !/^(---|\.\.\.)\s*$/.test(l))
    .map((l) => l.split(':')[0].trim());
  if (top.length !== 1 || top[0] !== 'network')
    throw invalid(
      field,
      `must be one YAML document whose only top-level key is network: (netplan v2); found ${top.length ? top.join(', ') : 'no key'}`,
    );
  if (!/^\s+version:\s*2\s*$/m.test(v) && !/version:\s*2\s*[,}]/.test(v))
    throw invalid(field, 'network.version must be 2 (netplan v2 / cloud-init network-config v2)');
  return v;
};

const sshKeys: Check = (v, field) => {
  const list =
    typeof v === 'string'
      ? v
          .split('\n')
          .map((k) => k.trim())
          .filter(Boolean)
      : v;
  if (!Array.isArray(list) || list.length > 100)
    throw invalid(field, 'a list of at most 100 OpenSSH public keys');
  list.forEach((k, i) => {
    if (typeof k !== 'string' || k.length > 16_384 || !SSH_KEY.test(k.trim()))
      throw invalid(
        `${field}[${i}]`,
        'not an OpenSSH public key line (e.g. the contents of ~/.ssh/id_ed25519.pub)',
      );
  });
  return (list as string[]).map((k) => k.trim());
};

const disk: Check = (v, field) => {
  if (typeof v !== 'string' || !/^(\/dev\/)?[a-z][a-z0-9]{1,31}$/.test(v))
    throw invalid(field, `a disk name such as sda or /dev/nvme0n1, not ${shown(v)}`);
  return v;
};

const commissionParams: Record<string, Check> = {
  tests,
  cpuSeconds: count(86_400),
  diskReadMiB: count(16 * 2 ** 20),
  memoryMiB: count(2 ** 20),
  lldpSeconds: count(600),
};

const PARAMS: Partial<Record<Action, Record<string, Check>>> = {
  commission: commissionParams,
  deploy: { image, userData, sshKeys, disk, networkConfig },
  redeploy: { image, userData, sshKeys, disk, networkConfig },
  release: { wipe: oneOf(WIPE_MODES) },
};

/** The action's parameters, checked and normalised; throws a validation error naming the field. */
export function normaliseActionParams(
  action: Action,
  params: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const checks = PARAMS[action] ?? {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    const check = checks[k];
    if (!check) {
      const known = Object.keys(checks);
      throw invalid(
        `params.${k}`,
        known.length
          ? `not a parameter of ${action}; it takes ${known.join(', ')}`
          : `${action} takes no parameters`,
      );
    }
    if (v !== undefined && v !== null) out[k] = check(v, `params.${k}`);
  }
  return out;
}
