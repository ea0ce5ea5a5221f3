/**
 * Container image archives as `docker save` (docker-archive) and `skopeo copy … oci-archive:`
 * (OCI image layout in a tar) write them. Which format: the archive's members (`manifest.json`
 * vs `oci-layout` + `index.json`). Read with Debian's skopeo: each image's config (architecture,
 * OS, and its SHA-256, the image ID) via `skopeo inspect --config --raw`; integrity via
 * `skopeo copy … docker-archive:/dev/null`, which checks every layer against its digest.
 * Names come from the archive itself — docker-archive `RepoTags` (manifest.json), OCI
 * `org.opencontainers.image.ref.name` (index.json) — because those are the names
 * `ctr images import` gives the images; skopeo cannot list an OCI archive's names.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { type ImageArchiveFormat, parseImageRef } from '../core/bundle.ts';
import { listTar, readTarMember, tarReason } from './tar.ts';
import { lastLine, runTool, ToolFailed } from './tool.ts';

export interface ArchivedImage {
  readonly refs: readonly string[];
  readonly arch: string;
  readonly os: string;
  readonly configDigest: string;
  readonly manifestDigest: string | null;
}

export interface ImageArchive {
  readonly format: ImageArchiveFormat;
  readonly images: readonly ArchivedImage[];
}

const corrupt = (shownAs: string, why: string) =>
  new IngotError(ErrorCode.Validation, `${shownAs}: ${why}`, { details: { field: shownAs } });

/** The archive's format from its member list, or null when it is not an image archive. */
export function archiveFormat(members: readonly string[]): ImageArchiveFormat | null {
  const set = new Set(members.map((m) => m.replace(/\/$/, '')));
  if (set.has('oci-layout') && set.has('index.json')) return 'oci-archive';
  if (set.has('manifest.json')) return 'docker-archive';
  return null;
}

/** Whether `file` is a docker or OCI image archive (null: a tar of something else, or not a tar). */
export async function sniffImageArchive(
  file: string,
  signal?: AbortSignal,
): Promise<ImageArchiveFormat | null> {
  try {
    return archiveFormat(await listTar(file, signal));
  } catch (e) {
    if (e instanceof ToolFailed) return null;
    throw e;
  }
}

interface DockerManifestEntry {
  Config?: unknown;
  RepoTags?: unknown;
}

interface OciIndex {
  manifests?: { mediaType?: unknown; digest?: unknown; annotations?: Record<string, unknown> }[];
}

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

/** Reads what the archive holds (names, architecture, digests). Does not check layers: see verifyImageArchive. */
export async function inspectImageArchive(
  file: string,
  shownAs: string,
  o: { signal?: AbortSignal; tmpDir?: string } = {},
): Promise<ImageArchive> {
  let members: string[];
  try {
    members = await listTar(file, o.signal);
  } catch (e) {
    if (e instanceof ToolFailed)
      throw corrupt(
        shownAs,
        `is not a readable tar archive (${tarReason(e.stderr)}); it is truncated or corrupt`,
      );
    throw e;
  }
  const format = archiveFormat(members);
  if (!format)
    throw corrupt(
      shownAs,
      'is a tar archive but not a container image archive (no manifest.json, no oci-layout + index.json); give what `docker save` or `skopeo copy … docker-archive:|oci-archive:` writes',
    );
  const images: ArchivedImage[] = [];
  if (format === 'docker-archive') {
    const entries = parseJson<DockerManifestEntry[]>(
      await member(file, 'manifest.json', shownAs, o),
      shownAs,
      'manifest.json',
    );
    if (!Array.isArray(entries) || entries.length === 0)
      throw corrupt(shownAs, 'manifest.json lists no image');
    if (entries.length > 64)
      throw corrupt(shownAs, `manifest.json lists ${entries.length} images; at most 64 per archive`);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const refs = Array.isArray(e.RepoTags)
        ? e.RepoTags.filter((t): t is string => typeof t === 'string')
        : [];
      const config = await configOf(`docker-archive:${file}:@${i}`, shownAs, o);
      // The config's file name is its digest (docker >= 1.10); a mismatch is a corrupt archive.
      const declared =
        typeof e.Config === 'string' ? /([0-9a-f]{64})(\.json)?$/.exec(e.Config)?.[1] : undefined;
      if (declared && `sha256:${declared}` !== config.digest)
        throw corrupt(
          shownAs,
          `image ${i}'s config does not match its digest ${declared}; the archive is corrupt`,
        );
      images.push({
        refs,
        arch: config.arch,
        os: config.os,
        configDigest: config.digest,
        manifestDigest: null,
      });
    }
  } else {
    const index = parseJson<OciIndex>(await member(file, 'index.json', shownAs, o), shownAs, 'index.json');
    const manifests = Array.isArray(index.manifests) ? index.manifests : [];
    if (manifests.length === 0) throw corrupt(shownAs, 'index.json lists no image');
    if (manifests.length > 64)
      throw corrupt(shownAs, `index.json lists ${manifests.length} images; at most 64 per archive`);
    for (const m of manifests) {
      if (typeof m.mediaType === 'string' && /index|manifest\.list/.test(m.mediaType))
        throw corrupt(
          shownAs,
          'holds a multi-platform image index; give one platform per archive (skopeo copy --override-arch ARCH … oci-archive:FILE:NAME:TAG)',
        );
      const names = [m.annotations?.[CONTAINERD_NAME], m.annotations?.[REF_NAME]].filter(
        (n): n is string => typeof n === 'string' && n.length > 0,
      );
      const full = names.find((n) => parseImageRef(n) && n.includes('/'));
      if (!full)
        throw corrupt(
          shownAs,
          `names its image ${names.length ? `"${names[0]}"` : 'nothing'} (${REF_NAME}), not a full reference like registry.k8s.io/pause:3.2, so containerd could not import it under a usable name; write it with \`skopeo copy … oci-archive:${shownAs.split('/').pop()}:registry.example/name:tag\``,
        );
      const config = await configOf(`oci-archive:${file}:${full}`, shownAs, o);
      images.push({
        refs: [full],
        arch: config.arch,
        os: config.os,
        configDigest: config.digest,
        manifestDigest: typeof m.digest === 'string' ? m.digest : null,
      });
    }
  }
  return { format, images };
}

/**
 * Reads every layer of every image in the archive and checks it against its digest (skopeo
 * copies to a docker-archive on /dev/null: nothing is written). Throws naming the file when
 * a layer is missing, short or altered.
 */
export async function verifyImageArchive(
  file: string,
  archive: ImageArchive,
  shownAs: string,
  o: { signal?: AbortSignal; tmpDir?: string } = {},
): Promise<void> {
  for (let i = 0; i < archive.images.length; i++) {
    const img = archive.images[i];
    const src =
      archive.format === 'docker-archive'
        ? `docker-archive:${file}:@${i}`
        : `oci-archive:${file}:${img.refs[0]}`;
    try {
      await skopeo(['copy', '--quiet', src, 'docker-archive:/dev/null:ingot.invalid/verify:latest'], o);
    } catch (e) {
      if (e instanceof ToolFailed)
        throw corrupt(
          shownAs,
          `image ${img.refs[0] ?? i} is corrupt: ${lastLine(e.stderr) || e.message}; re-create the archive (docker save / skopeo copy)`,
        );
      throw e;
    }
  }
}

async function member(
  file: string,
  name: string,
  shownAs: string,
  o: { signal?: AbortSignal },
): Promise<string> {
  try {
    return await readTarMember(file, name, o.signal);
  } catch (e) {
    if (e instanceof ToolFailed)
      throw corrupt(shownAs, `cannot read ${name} (${tarReason(e.stderr)}); the archive is corrupt`);
    throw e;
  }
}

function parseJson<T>(text: string, shownAs: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw corrupt(shownAs, `${what} is not JSON; the archive is corrupt`);
  }
}

function skopeo(args: string[], o: { signal?: AbortSignal; tmpDir?: string }): Promise<string> {
  // skopeo unpacks OCI archives into TMPDIR: keep that inside the import's own directory.
  return runTool('skopeo', args, { signal: o.signal, env: o.tmpDir ? { TMPDIR: o.tmpDir } : {} });
}

async function configOf(
  ref: string,
  shownAs: string,
  o: { signal?: AbortSignal; tmpDir?: string },
): Promise<{ arch: string; os: string; digest: string }> {
  let raw: string;
  try {
    raw = await skopeo(['inspect', '--config', '--raw', ref], o);
  } catch (e) {
    if (e instanceof ToolFailed)
      throw corrupt(
        shownAs,
        `skopeo cannot read the image: ${lastLine(e.stderr)}; the archive is truncated or corrupt`,
      );
    throw e;
  }
  const cfg = parseJson<{ architecture?: unknown; os?: unknown }>(raw, shownAs, 'the image config');
  return {
    arch: typeof cfg.architecture === 'string' ? cfg.architecture : 'unknown',
    os: typeof cfg.os === 'string' ? cfg.os : 'unknown',
    digest: `sha256:${createHash('sha256').update(raw).digest('hex')}`,
  };
}
