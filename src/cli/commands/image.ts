/**
 * `ingot image …`: OS and boot images.
 *   image build os --distro debian-12 [--size 1.5G] [--out DIR]   build locally (root), then register
 *   image add NAME URL|FILE [--sha256 HEX]                        import into the region
 *   image ls | image rm NAME
 * `build` runs here (debootstrap needs root and this machine's apt mirror) and uploads the result
 * to the region; everything else talks to the region over HTTP like any other command.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import { sha256File } from '../../images/hash.ts';
import type { Image } from '../../images/types.ts';
import { type Client, Exit, exitFor } from '../client.ts';
import { ctx } from '../context.ts';
import { bytes, printData, table } from '../output.ts';

/** `1.5G`, `1536M`, `2147483648` → bytes (binary units). */
export function parseSize(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?$/i.exec(v.trim());
  if (!m) throw invalid(flag, `"${v}" is not a size; write it like 2G, 1536M or a byte count`);
  const mult = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[
    m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'
  ];
  return Math.round(Number(m[1]) * mult);
}

/** Streams a local file to `PUT /api/v1/images/{name}`; the region verifies `sha256`. */
export async function uploadImage(
  client: Client,
  name: string,
  file: string,
  q: { sha256: string; kind?: string; format?: string; compression?: string; source?: string },
): Promise<Image> {
  const params = new URLSearchParams({ sha256: q.sha256, file: basename(file) });
  for (const k of ['kind', 'format', 'compression', 'source'] as const) if (q[k]) params.set(k, q[k]!);
  return client.upload<Image>(
    'PUT',
    `/api/v1/images/${encodeURIComponent(name)}?${params}`,
    Readable.toWeb(createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) as ReadableStream,
    statSync(file).size,
  );
}

/** Polls an importing image until it is ready (returns it) or failed (throws). */
async function waitImported(client: Client, name: string, timeoutMs: number): Promise<Image> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const img = await client.get<Image>(`/api/v1/images/${encodeURIComponent(name)}`);
    if (img.status === 'ready') return img;
    if (img.status === 'failed')
      throw new IngotError(ErrorCode.StepFailed, `image ${name} failed: ${img.statusReason}`, {
        details: { image: name },
      });
    if (img.statusReason !== last && process.stderr.isTTY)
      process.stderr.write(`${name}: ${img.statusReason}\n`);
    last = img.statusReason;
    if (Date.now() > end)
      throw new IngotError(
        ErrorCode.Timeout,
        `image ${name} still importing after ${timeoutMs / 1000} s (${last}); the import goes on: \`ingot image ls\` shows it`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function printImages(list: Image[], format: ReturnType<typeof ctx>['format']): void {
  if (printData(list, format)) return;
  process.stdout.write(
    table(
      ['NAME', 'KIND', 'FORMAT', 'SIZE', 'STATUS', 'SHA256', 'PATH'],
      list.map((i) => [
        i.name,
        i.kind,
        i.format + (i.compression === 'none' ? '' : `+${i.compression}`),
        bytes(i.size),
        i.status === 'failed' ? `failed: ${i.statusReason}` : i.status,
        i.sha256?.slice(0, 12),
        i.path,
      ]),
    ),
  );
}

export function registerImageCommand(program: Command): Command {
  const image = program.command('image').alias('images').description('OS and boot images');
  const build = image.command('build').description('build an image on this machine (needs root)');
  build
    .command('os')
    .description(
      'build a Debian raw disk image with debootstrap (BIOS+UEFI, cloud-init, ssh), then register it',
    )
    .option('--distro <distro>', 'debian-12', 'debian-12')
    .option(
      '--profile <profile>',
      'standard, or kubernetes-node (containerd, the Kubernetes kernel settings, the node agent; docs/node-os.md)',
      'standard',
    )
    .option(
      '--size <size>',
      'raw disk size (sparse); the root partition grows to the disk at first boot',
      '1.5G',
    )
    .option(
      '--name <name>',
      'register as this image name (default: the distro, with -kubernetes-node for that profile)',
    )
    .option('--out <dir>', 'write the image, .sha256 and manifest here instead of registering it')
    .option('--register', 'with --out: register it as well')
    .option('--no-cache', 'build even if the cache has this recipe and archive date')
    .option('--mirror <url>', 'Debian mirror (default: the one /etc/apt/sources.list(.d) names)')
    .action(async (o, cmd: Command) => {
      const { buildOsImage } = await import('../../images/os/build.ts');
      const { OS_DISTROS, OS_PROFILES } = await import('../../images/os/recipe.ts');
      if (!(OS_DISTROS as readonly string[]).includes(o.distro))
        throw invalid('--distro', `"${o.distro}" is not one of ${OS_DISTROS.join(', ')}`);
      if (!(OS_PROFILES as readonly string[]).includes(o.profile))
        throw invalid('--profile', `"${o.profile}" is not one of ${OS_PROFILES.join(', ')}`);
      const built = await buildOsImage({
        distro: o.distro,
        profile: o.profile,
        sizeBytes: parseSize('--size', o.size),
        outDir: o.out,
        cache: o.cache === false ? 'off' : 'exact',
        mirror: o.mirror,
        log: (m) => process.stderr.write(`${m}\n`),
      });
      process.stderr.write(`${built.cached ? 'cached' : 'built'} ${built.image} sha256 ${built.sha256}\n`);
      if (o.out && !o.register) {
        const { format } = ctx(cmd);
        if (!printData({ image: built.image, sha256: built.sha256, manifest: built.manifestPath }, format))
          process.stdout.write(`${built.image}\n`);
        return;
      }
      const { client, format } = ctx(cmd);
      const name = o.name ?? built.manifest.name;
      // Registered compressed: machines download a fraction of the raw image.
      const { zstdCopy } = await import('../../images/os/compress.ts');
      const upload = await zstdCopy(built.image, (m) => process.stderr.write(`${m}\n`));
      let existing: Image | null = null;
      try {
        existing = await client.get<Image>(`/api/v1/images/${encodeURIComponent(name)}`);
      } catch (e) {
        if (exitFor(e) !== Exit.NotFound) throw e;
      }
      let img: Image;
      if (existing?.status === 'ready' && existing.sha256 === upload.sha256) {
        process.stderr.write(`image ${name} is already registered with this sha256\n`);
        img = existing;
      } else {
        if (existing?.status === 'ready')
          throw new IngotError(
            ErrorCode.Conflict,
            `image ${name} exists with another sha256; remove it (ingot image rm ${name}) or pass --name`,
          );
        img = await uploadImage(client, name, upload.file, {
          sha256: upload.sha256,
          kind: 'os',
          compression: 'zst',
          source: `build:${built.manifest.distro}@${built.manifest.inputs.recipeHash.slice(0, 12)}`,
        });
      }
      if (!printData(img, format)) process.stdout.write(`${img.name} ${img.path} ${img.sha256}\n`);
    });
  build
    .command('boot')
    .description(
      "build Ingot's boot image (Debian kernel + initramfs with the agent and its tools) into the cache; see docs/agent.md",
    )
    .option('--out <dir>', 'also copy vmlinuz, initrd.img and manifest.json here')
    .option('--force', 'rebuild even if the cache has this recipe')
    .action(async (o, cmd: Command) => {
      const { buildBootImage } = await import('../../agent/image/build.ts');
      const { copyFileSync, mkdirSync } = await import('node:fs');
      const { join } = await import('node:path');
      const img = await buildBootImage({
        force: Boolean(o.force),
        log: (m) => process.stderr.write(`${m}\n`),
      });
      if (o.out) {
        mkdirSync(o.out, { recursive: true });
        for (const f of ['vmlinuz', 'initrd.img', 'manifest.json'])
          copyFileSync(join(img.dir, f), join(o.out, f));
      }
      const { format } = ctx(cmd);
      if (!printData(img, format))
        process.stdout.write(
          `${img.key} ${img.dir} kernel ${img.kernelVersion} ${bytes(img.sizeBytes)} initrd sha256 ${img.sha256.initrd}\n`,
        );
    });
  image
    .command('add <name> <source>')
    .description('import an image (raw or qcow2, optionally gz/xz/zst) from an http(s) URL or a local file')
    .option('--sha256 <hex>', 'expected SHA-256 of the file; the import fails on a mismatch')
    .option('--kind <kind>', 'os or boot', 'os')
    .option('--format <format>', 'raw or qcow2 (default: detected)')
    .option('--compression <c>', 'none, gz, xz or zst (default: detected)')
    .option('--no-wait', 'for URLs: return while the region is still downloading')
    .option('--timeout <s>', 'how long to wait for a URL import', '3600')
    .action(async (name: string, source: string, o, cmd: Command) => {
      const { client, format } = ctx(cmd);
      let img: Image;
      if (/^https?:\/\//i.test(source)) {
        img = await client.post<Image>('/api/v1/images', {
          name,
          url: source,
          sha256: o.sha256,
          kind: o.kind,
          format: o.format,
          compression: o.compression,
        });
        if (o.wait !== false) img = await waitImported(client, name, Number(o.timeout) * 1000);
      } else {
        if (!existsSync(source) || !statSync(source).isFile())
          throw invalid(source, 'no such file (give an http(s) URL or a local file)');
        // Checked here and again by the region: the upload is verified end to end.
        const sha256 = await sha256File(source);
        if (o.sha256 && o.sha256.toLowerCase() !== sha256)
          throw invalid(
            source,
            `checksum mismatch: expected ${o.sha256.toLowerCase()}, got ${sha256}; nothing was uploaded`,
          );
        img = await uploadImage(client, name, source, {
          sha256,
          kind: o.kind,
          format: o.format,
          compression: o.compression,
        });
      }
      if (!printData(img, format)) process.stdout.write(`${img.name} ${img.status} ${img.sha256 ?? ''}\n`);
    });
  image
    .command('ls')
    .description('list images')
    .action(async (_o, cmd: Command) => {
      const { client, format } = ctx(cmd);
      printImages(await client.get<Image[]>('/api/v1/images'), format);
    });
  image
    .command('rm <name>')
    .description('remove an image and its file')
    .action(async (name: string, _o, cmd: Command) => {
      await ctx(cmd).client.delete(`/api/v1/images/${encodeURIComponent(name)}`);
      process.stderr.write(`image ${name} removed\n`);
    });
  return image;
}
