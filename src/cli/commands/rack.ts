/**
 * `ingot rack`: the rack services (DHCP, TFTP, boot HTTP with the agent and metadata
 * endpoints) on a host of the machines' provisioning network. Like `serve`, it *is* the
 * service, so it loads its code directly: it opens the region's store (the SQLite data dir on
 * the region's host, or the region's PostgreSQL) and serves the boot image, built from
 * Debian's packages on first start and cached, next to the region's OS images.
 */
import { mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import type { Command } from 'commander';
import { defaultDataDir } from '../paths.ts';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';

function port(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw invalid(flag, `a port number from 1 to 65535, not "${v}"`);
  return n;
}

function count(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw invalid(flag, `a whole number from ${min} to ${max}, not "${v}"`);
  return n;
}

/** Points ARTIFACTS/ephemeral at the boot image's directory (replacing an older link). */
function linkBootImage(artifacts: string, dir: string): void {
  const link = join(artifacts, 'ephemeral');
  let current: string | null = null;
  try {
    current = readlinkSync(link);
  } catch {
    // absent, or a real directory an operator put there: leave a directory alone
  }
  if (current === dir) return;
  if (current !== null) rmSync(link, { force: true });
  try {
    symlinkSync(dir, link);
  } catch (e) {
    throw new IngotError(
      ErrorCode.Config,
      `${link} exists and is not Ingot's link to the boot image; move it away or pass --no-boot-image (${(e as Error).message})`,
    );
  }
}

export function registerRackCommand(program: Command): void {
  program
    .command('rack')
    .description('run rack services (DHCP, TFTP, boot HTTP, agent and metadata) on the provisioning network')
    .requiredOption(
      '--provisioning-ip <ip>',
      "this host's IPv4 address on the machines' provisioning network",
    )
    .option('--data <dir>', 'the region’s data dir (SQLite store, secret key)', defaultDataDir())
    .option(
      '--database <url>',
      'the region’s PostgreSQL (default: SQLite in the data dir)',
      process.env.INGOT_DATABASE,
    )
    .option('--secret-key <file>', 'the region’s secret key file (default: DATA/secret.key)')
    .option('--artifacts <dir>', 'served under /artifacts/: boot image, OS images (default: DATA/artifacts)')
    .option(
      '--http-port <port>',
      'boot HTTP port: what firmware fetches (iPXE binaries and scripts, the boot kernel and initrd)',
      '8081',
    )
    .option('--https-port <port>', 'HTTPS port: the agent, OS images, metadata and bundles', '8443')
    .option(
      '--tls-cert <file>',
      'HTTPS certificate (PEM; with --tls-key). Default: a self-signed one generated in DATA/tls/rack.crt',
    )
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option(
      '--insecure-http',
      'serve everything over plain HTTP: tokens, metadata and OS images cross the network in clear',
    )
    .option(
      '--no-boot-image',
      'do not build or link the boot image (ARTIFACTS/ephemeral/{vmlinuz,initrd.img} must exist)',
    )
    .option('--kernel-args <args>', 'appended to the boot image’s kernel line')
    .option('--no-dhcp', 'leave DHCP to another server (it must hand out the boot file)')
    .option('--dhcp-port <port>', 'DHCP server port', '67')
    .option('--lease-seconds <s>', 'DHCP lease time', '3600')
    .option('--dhcp-refresh-ms <ms>', 'how often DHCP re-reads machines and subnets', '2000')
    .option('--ra-interface <if>', 'send IPv6 router advertisements here (saves iPXE a ~13 s IPv6 wait)')
    .option('--no-tftp', 'leave TFTP to another server')
    .option('--tftp-root <dir>', 'the iPXE binaries chainloaded over TFTP', '/usr/lib/ipxe')
    .option('--tftp-port <port>', 'TFTP server port', '69')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (o) => {
      // Everything the rack writes (store, logs, the boot image link) is the service user's alone.
      process.umask(0o077);
      if (!isIPv4(o.provisioningIp))
        throw invalid('--provisioning-ip', `an IPv4 address, not "${o.provisioningIp}"`);
      const httpPort = port('--http-port', o.httpPort);
      const httpsPort = port('--https-port', o.httpsPort);
      const dhcpPort = port('--dhcp-port', o.dhcpPort);
      const tftpPort = port('--tftp-port', o.tftpPort);
      const leaseSeconds = count('--lease-seconds', o.leaseSeconds, 30, 7 * 86_400);
      const refreshMs = count('--dhcp-refresh-ms', o.dhcpRefreshMs, 100, 600_000);
      const artifacts: string = o.artifacts ?? join(o.data, 'artifacts');
      const [{ default: pino }, { startRackServices }, { openStore }, { privateDir }, { loadServerTls }] =
        await Promise.all([
          import('pino'),
          import('../../netboot/rack.ts'),
          import('../../store/open.ts'),
          import('../../store/data-dir.ts'),
          import('../../tls/server-cert.ts'),
        ]);
      const log = pino({ level: o.logLevel }, pino.destination(2));
      // The data dir may not exist yet: create it private, as the region would.
      privateDir(o.data);
      mkdirSync(join(artifacts, 'images'), { recursive: true, mode: 0o700 });
      const tls = o.insecureHttp
        ? null
        : await loadServerTls({
            dataDir: o.data,
            service: 'rack',
            certFile: o.tlsCert,
            keyFile: o.tlsKey,
            hosts: [o.provisioningIp],
          });
      if (tls)
        log.info(
          { fingerprint: `sha256:${tls.fingerprint256}`, pin: tls.publicKeyPin, cert: tls.certFile },
          tls.generated ? 'generated a self-signed rack certificate' : 'rack certificate',
        );
      else log.warn('--insecure-http: the agent, OS images, metadata and bundles are served over plain HTTP');
      if (o.bootImage) {
        const { buildBootImage } = await import('../../agent/image/build.ts');
        const image = await buildBootImage({ log: (m) => log.info(m) });
        linkBootImage(artifacts, image.dir);
      }
      const store = await openStore({ dataDir: o.data, database: o.database, secretKeyFile: o.secretKey });
      let rack: Awaited<ReturnType<typeof startRackServices>>;
      try {
        rack = await startRackServices({
          store,
          provisioningIp: o.provisioningIp,
          httpPort,
          tls: tls && { ...tls, port: httpsPort },
          artifactsDir: artifacts,
          ephemeral: { kernel: 'ephemeral/vmlinuz', initrd: 'ephemeral/initrd.img', extraArgs: o.kernelArgs },
          dhcp: o.dhcp ? { port: dhcpPort, leaseSeconds, raInterface: o.raInterface, refreshMs } : false,
          tftp: o.tftp ? { root: o.tftpRoot, port: tftpPort } : false,
          logger: log,
        });
      } catch (e) {
        await store.close();
        throw e;
      }
      const ready = {
        http: rack.httpUrl,
        https: tls ? rack.httpsUrl : null,
        fingerprint: tls ? `sha256:${tls.fingerprint256}` : null,
        dhcp: rack.dhcp?.port ?? null,
        tftp: rack.tftp?.port ?? null,
      };
      // One machine-readable line (the lab waits for it), then a human one.
      process.stdout.write(`INGOT-RACK-READY ${JSON.stringify(ready)}\n`);
      process.stderr.write(
        `ingot: rack services: boot HTTP ${rack.httpUrl}, HTTPS ${ready.https ?? 'off (--insecure-http)'}, DHCP ${ready.dhcp ?? 'off'}, TFTP ${ready.tftp ?? 'off'} (store: ${store.kind})\n` +
          (tls
            ? `ingot: rack certificate ${tls.certFile}, fingerprint sha256:${tls.fingerprint256}, agent pin ${tls.publicKeyPin}\n`
            : ''),
      );
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        await rack
          .close()
          .catch((e: unknown) => log.error({ err: e }, 'rack services did not close cleanly'));
        await store.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop());
      process.on('SIGINT', () => void stop());
    });
}
