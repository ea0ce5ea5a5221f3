/**
 * The bundle's version and architecture from the evidence its files give, and the per-file
 * checks against them (ELF headers, checksums a manifest states). Problems are collected, not
 * thrown, so the reader can report them all together.
 */
import {
  BUNDLE_ARCHES,
  imageComponent,
  KUBE_COMPONENTS,
  parseImageRef,
  parseKubeVersion,
} from '../core/bundle.ts';
import type { Arch } from '../core/machine.ts';
import { elfInfo } from './elf.ts';
import type { ImageArchive } from './image-archive.ts';
import type { Candidates } from './layout.ts';
import type { Problems } from './problems.ts';
import type { FileScan } from './scan.ts';

/** The bundle's version: every claim agrees, or (none made) the kube-* images' tags agree. */
export function decideVersion(
  c: Candidates,
  archives: readonly { shown: string; archive: ImageArchive }[],
  problems: Problems,
): { value: string; from: string } {
  const claims = c.versionClaims.map((cl) => ({ ...cl, version: cl.version.replace(/_/g, '+') }));
  if (claims.length === 0) {
    for (const a of archives)
      for (const img of a.archive.images)
        for (const r of img.refs) {
          const p = parseImageRef(r);
          const comp =
            p && (BUNDLE_ARCHES as readonly string[]).includes(img.arch)
              ? imageComponent(p, img.arch as Arch)
              : null;
          if (comp && (KUBE_COMPONENTS as readonly string[]).includes(comp) && p?.tag)
            claims.push({ version: p.tag.replace(/_/g, '+'), from: `the ${comp} image's tag in ${a.shown}` });
        }
  }
  if (claims.length === 0) {
    problems.add(
      '(bundle)',
      'cannot tell which Kubernetes version this is: no ingot-bundle.json, no kubernetes/server/bin/*.docker_tag, no kubernetes/version and no kube-* image; add an ingot-bundle.json with version and arch (docs/bundles.md)',
    );
    return { value: 'v0.0.0', from: '(none)' };
  }
  const first = claims[0];
  if (!parseKubeVersion(first.version))
    problems.add(
      first.from,
      `says "${first.version.slice(0, 64)}", which is not a Kubernetes version like v1.20.2`,
    );
  const disagree = claims.filter((cl) => cl.version !== first.version);
  if (disagree.length)
    problems.add(
      first.from,
      `says ${first.version} but ${disagree.map((d) => `${d.from} says ${d.version}`).join(', ')}; a bundle is one release: rebuild it from one release`,
    );
  const from =
    claims.length > 1 && claims.every((cl) => cl.from.endsWith('.docker_tag'))
      ? `${claims.length} .docker_tag files (${first.from}, …)`
      : first.from;
  return { value: first.version, from };
}

/**
 * The bundle's architecture: as declared by an ingot-bundle.json, else the one most of its
 * files are (ELF headers and image configs; a tie goes to kubelet's), so a single odd file is
 * the one named as wrong.
 */
export function decideArch(
  c: Candidates,
  archives: readonly { shown: string; archive: ImageArchive }[],
  scans: ReadonlyMap<string, FileScan>,
  problems: Problems,
): { value: Arch; from: string } {
  let value: string | undefined;
  let from = '';
  if (c.manifest) {
    value = c.manifest.arch;
    from = 'ingot-bundle.json arch';
  } else {
    const votes = new Map<string, number>();
    const vote = (a: string) => votes.set(a, (votes.get(a) ?? 0) + 1);
    for (const f of [...c.binaries, ...c.componentBinaries, ...c.cni]) {
      const elf = elfInfo(scans.get(f.file)!.head);
      if (elf) vote(elf.arch);
    }
    for (const a of archives) for (const img of a.archive.images) vote(img.arch);
    const kubelet = c.binaries.find((b) => b.name === 'kubelet');
    const kubeletArch = kubelet ? elfInfo(scans.get(kubelet.file)!.head)?.arch : undefined;
    const total = [...votes.values()].reduce((x, y) => x + y, 0);
    for (const [a, count] of votes) {
      const best = value === undefined ? -1 : votes.get(value)!;
      if (count > best || (count === best && a === kubeletArch)) value = a;
    }
    if (value !== undefined)
      from =
        votes.size === 1
          ? `the ELF headers and image configs (all ${total} files)`
          : `the ELF headers and image configs (${votes.get(value)} of ${total} files)`;
  }
  if (!value) {
    problems.add('(bundle)', 'cannot tell the architecture: no binary, no image');
    problems.throwIfAny();
  }
  if (!(BUNDLE_ARCHES as readonly string[]).includes(value!)) {
    problems.add(from, `is ${value}; bundles are for machines, which are ${BUNDLE_ARCHES.join(' or ')}`);
    problems.throwIfAny();
  }
  return { value: value as Arch, from };
}

export function checkElf(
  shown: string,
  s: FileScan,
  arch: string,
  archFrom: string,
  problems: Problems,
): void {
  const elf = elfInfo(s.head);
  if (!elf) problems.add(shown, `is not an ELF executable (${s.size} bytes); give the Linux ${arch} binary`);
  else if (elf.arch !== arch)
    problems.add(shown, `is an ${elf.arch} binary but the bundle is ${arch} (from ${archFrom})`);
}

/** A manifest's sha256/size for a file must be the file's. */
export function checkGiven(
  shown: string,
  entry: { sha256?: string; size?: number } | undefined,
  s: FileScan,
  problems: Problems,
): void {
  if (entry?.sha256 && entry.sha256 !== s.sha256)
    problems.add(
      shown,
      `checksum mismatch: ingot-bundle.json says sha256 ${entry.sha256}, the file is ${s.sha256}; the file is corrupt or the manifest is for another file`,
    );
  else if (entry?.size !== undefined && entry.size !== s.size)
    problems.add(shown, `is ${s.size} bytes, ingot-bundle.json says ${entry.size}`);
}
