/**
 * `ingot bundle …`: Kubernetes bundles for nodes without internet (docs/bundles.md).
 *   bundle add FILE|DIR|URL [--name N] [--sha256 HEX]   import into the region
 *   bundle ls | bundle show NAME | bundle rm NAME
 * A FILE (the release tarball, or a tarball of a bundle) is hashed here and checked again by
 * the region; a DIR is packed with tar on the fly; a URL is downloaded by the region.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { Bundle } from '../../core/bundle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { sha256File } from '../../images/hash.ts';
import type { Client } from '../client.ts';
import { ctx } from '../context.ts';
import { bytes, printData, table } from '../output.ts';

/** Polls an importing bundle (by id: it may have no name yet) until ready (returns it) or failed (throws). */
async function waitImported(client: Client, id: string, timeoutMs: number): Promise<Bundle> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const b = await client.get<Bundle>(`/api/v1/bundles/${encodeURIComponent(id)}`);
    if (b.status === 'ready') return b;
    if (b.status === 'failed')
      throw new IngotError(ErrorCode.StepFailed, `bundle ${b.name ?? id} failed: ${b.statusReason}`);
    if (b.statusReason !== last && process.stderr.isTTY)
      process.stderr.write(`${b.name ?? id}: ${b.statusReason}\n`);
    last = b.statusReason;
    if (Date.now() > end)
      throw new IngotError(
        ErrorCode.Timeout,
        `bundle ${b.name ?? id} still importing after ${timeoutMs / 1000} s (${last})`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A directory as an uncompressed tar stream (symlinks followed: the region keeps regular files only). */
function tarOf(dir: string): ReadableStream {
  const child = spawn('tar', ['-C', dir, '--dereference', '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  child.on('error', (e) =>
    child.stdout.destroy(new IngotError(ErrorCode.Internal, `cannot run tar: ${e.message}`)),
  );
  child.on('close', (code) => {
    // A tar that failed half way must not reach the region as a short but well-formed upload.
    if (code !== 0)
      child.stdout.destroy(
        new IngotError(
          ErrorCode.Internal,
          `tar could not pack ${dir}: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`,
        ),
      );
  });
  return Readable.toWeb(child.stdout) as ReadableStream;
}

function printBundles(list: Bundle[], format: ReturnType<typeof ctx>['format']): void {
  if (printData(list, format)) return;
  process.stdout.write(
    table(
      ['NAME', 'VERSION', 'ARCH', 'BINARIES', 'IMAGES', 'CNI', 'SIZE', 'STATUS'],
      list.map((b) => [
        b.name ?? `(${b.id})`,
        b.version,
        b.arch,
        b.manifest?.binaries.map((x) => x.name).join(','),
        b.manifest?.images.length,
        b.manifest?.cniPlugins.length,
        bytes(b.size),
        b.status === 'failed' ? `failed: ${b.statusReason.split('\n')[0]}` : b.status,
      ]),
    ),
  );
}

function printBundle(b: Bundle): void {
  const m = b.manifest;
  const out = [
    `name:     ${b.name ?? '-'} (${b.id})`,
    `status:   ${b.status}${b.statusReason ? `: ${b.statusReason}` : ''}`,
    `source:   ${b.source}`,
  ];
  if (m) {
    out.push(
      `version:  ${m.version} (from ${m.provenance.versionFrom})`,
      `arch:     ${m.arch} (from ${m.provenance.archFrom})`,
      `layout:   ${m.provenance.layout}`,
      `size:     ${bytes(b.size)}, manifest sha256 ${b.sha256}`,
      `absent:   ${m.absentImages.length ? `${m.absentImages.join(', ')} (nodes cannot pull these offline)` : 'none'}`,
      '',
      table(
        ['BINARY', 'VERSION', 'SIZE', 'SHA256'],
        m.binaries.map((x) => [x.name, x.version, bytes(x.size), x.sha256.slice(0, 16)]),
      ).trimEnd(),
      '',
      table(
        ['IMAGE', 'COMPONENT', 'FORMAT', 'ALIASES', 'ID', 'FILE'],
        m.images.map((x) => [
          x.refs.join(','),
          x.component,
          x.format,
          x.aliases.join(','),
          x.configDigest.slice(7, 19),
          x.path,
        ]),
      ).trimEnd(),
    );
    if (m.cniPlugins.length) out.push('', `cni:      ${m.cniPlugins.map((c) => c.name).join(', ')}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

export function registerBundleCommand(program: Command): Command {
  const bundle = program
    .command('bundle')
    .alias('bundles')
    .description('Kubernetes bundles: binaries, images and CNI plugins for nodes without internet');
  bundle
    .command('add <source>')
    .description(
      'import a bundle: the release tarball (kubernetes-server-linux-<arch>.tar.gz), a bundle directory, a tarball of one, or an http(s) URL',
    )
    .option('--name <name>', 'bundle name (default: kubernetes-<version>-<arch>)')
    .option('--sha256 <hex>', 'expected SHA-256 of the file or URL; the import fails on a mismatch')
    .option('--no-wait', 'for URLs: return while the region is still downloading')
    .option('--timeout <s>', 'how long to wait for a URL import', '3600')
    .action(async (source: string, o, cmd: Command) => {
      const { client, format } = ctx(cmd);
      let b: Bundle;
      if (/^https?:\/\//i.test(source)) {
        b = await client.post<Bundle>('/api/v1/bundles', { url: source, name: o.name, sha256: o.sha256 });
        if (o.wait !== false) b = await waitImported(client, b.id, Number(o.timeout) * 1000);
      } else {
        if (!existsSync(source))
          throw new IngotError(
            ErrorCode.Validation,
            `${source}: no such file or directory (give a file, a directory or an http(s) URL)`,
          );
        const params = new URLSearchParams({ file: basename(resolve(source)) });
        if (o.name) params.set('name', o.name);
        if (statSync(source).isDirectory()) {
          if (o.sha256)
            throw new IngotError(
              ErrorCode.Validation,
              '--sha256 is for files and URLs; a directory is checked file by file',
            );
          b = await client.upload<Bundle>('POST', `/api/v1/bundles/upload?${params}`, tarOf(source));
        } else {
          // Checked here and again by the region: the upload is verified end to end.
          const sha256 = await sha256File(source);
          if (o.sha256 && o.sha256.toLowerCase() !== sha256)
            throw new IngotError(
              ErrorCode.Validation,
              `${source}: checksum mismatch: expected ${o.sha256.toLowerCase()}, got ${sha256}; nothing was uploaded`,
            );
          params.set('sha256', sha256);
          b = await client.upload<Bundle>(
            'POST',
            `/api/v1/bundles/upload?${params}`,
            Readable.toWeb(createReadStream(source, { highWaterMark: 4 * 2 ** 20 })) as ReadableStream,
            statSync(source).size,
          );
        }
      }
      if (!printData(b, format))
        process.stdout.write(`${b.name ?? b.id} ${b.status} ${b.version ?? ''} ${b.arch ?? ''}\n`);
    });
  bundle
    .command('ls')
    .description('list bundles')
    .action(async (_o, cmd: Command) => {
      const { client, format } = ctx(cmd);
      printBundles(await client.get<Bundle[]>('/api/v1/bundles'), format);
    });
  bundle
    .command('show <name>')
    .description('show a bundle: version, arch, and where each came from; binaries, images, CNI plugins')
    .action(async (name: string, _o, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const b = await client.get<Bundle>(`/api/v1/bundles/${encodeURIComponent(name)}`);
      if (!printData(b, format)) printBundle(b);
    });
  bundle
    .command('rm <name>')
    .description('remove a bundle and its files')
    .action(async (name: string, _o, cmd: Command) => {
      await ctx(cmd).client.delete(`/api/v1/bundles/${encodeURIComponent(name)}`);
      process.stderr.write(`bundle ${name} removed\n`);
    });
  return bundle;
}
