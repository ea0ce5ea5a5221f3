import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { defaultDataDir } from '../paths.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run a region: store, lifecycle engine and HTTP API in one process')
    .option('--data <dir>', 'data dir (SQLite file, secret key, admin token)', defaultDataDir())
    .option('--listen <host:port>', 'address of the HTTP API', '127.0.0.1:8080')
    .option(
      '--database <url>',
      'postgres://… to use PostgreSQL (default: SQLite in the data dir)',
      process.env.INGOT_DATABASE,
    )
    .option(
      '--secret-key <file>',
      'AES-256 key file for secrets at rest; regions sharing a PostgreSQL must share it (default: DATA/secret.key)',
    )
    .option('--lease <ms>', 'job lease duration in ms', (v) => Number(v), 30_000)
    .option(
      '--simulated-agent-delay <ms>',
      'how long each simulated agent task takes',
      (v) => Number(v),
      2000,
    )
    .option('--agent-poll <ms>', 'how often a waiting step asks the agent again', (v) => Number(v))
    .option('--cluster-poll <ms>', 'how often a waiting cluster step looks at its members again', (v) =>
      Number(v),
    )
    .option('--max-jobs <n>', 'jobs this region runs at once', (v) => Number(v), 1000)
    .option('--max-per-rack <n>', 'boot-heavy workflows at once per rack', (v) => Number(v), 100)
    .option('--max-per-bmc <n>', 'calls in flight per BMC host', (v) => Number(v), 4)
    .option(
      '--allow-private-sources [cidrs]',
      'let URL imports (images, bundles) fetch from loopback, link-local and this host’s own addresses (all, or only these comma-separated addresses/CIDRs)',
    )
    .option(
      '--tls-cert <file>',
      'HTTPS certificate (PEM; with --tls-key). Default: a self-signed one generated in DATA/tls/',
    )
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--http', 'serve plain HTTP instead of HTTPS: only on a loopback --listen address')
    .option(
      '--insecure-http',
      'serve plain HTTP on any address: tokens and BMC passwords cross the network in clear',
    )
    .option(
      '--power-sample <minutes>',
      'read every machine’s BMC sensors this often for its power readings (cost model); 0 = off',
      (v) => Number(v),
      15,
    )
    .option(
      '--health-poll <seconds>',
      'poll every machine’s BMC sensors and SEL this often for hardware health (docs/health.md); 0 = off',
      (v) => Number(v),
      300,
    )
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (o) => {
      // Everything the region writes (store, logs, images) is the service user's alone.
      process.umask(0o077);
      if (!Number.isInteger(o.powerSample) || o.powerSample < 0 || o.powerSample > 1440)
        throw invalid('--power-sample', `"${o.powerSample}" is not a number of minutes from 0 (off) to 1440`);
      if (!Number.isInteger(o.healthPoll) || o.healthPoll < 0 || o.healthPoll > 86_400)
        throw invalid('--health-poll', `"${o.healthPoll}" is not a number of seconds from 0 (off) to 86400`);
      // The one place the CLI loads region code: `serve` *is* the region.
      const { startRegion } = await import('../../api/region.ts');
      const { PlainHttp } = await import('../../tls/plain-http.ts');
      const region = await startRegion({
        dataDir: o.data,
        listen: o.listen,
        database: o.database,
        secretKeyFile: o.secretKey,
        leaseMs: o.lease,
        simulatedAgentDelayMs: o.simulatedAgentDelay,
        agentPollMs: o.agentPoll,
        ...(o.clusterPoll !== undefined ? { clusterLimits: { pollMs: o.clusterPoll } } : {}),
        limits: { global: o.maxJobs, perRack: o.maxPerRack, perBmc: o.maxPerBmc },
        logLevel: o.logLevel,
        tls: { certFile: o.tlsCert, keyFile: o.tlsKey },
        plainHttp: o.insecureHttp ? PlainHttp.Insecure : o.http ? PlainHttp.Loopback : PlainHttp.Off,
        powerSampleMs: o.powerSample * 60_000,
        healthPollMs: o.healthPoll * 1000,
        allowPrivateSources:
          typeof o.allowPrivateSources === 'string'
            ? o.allowPrivateSources
                .split(',')
                .map((c: string) => c.trim())
                .filter(Boolean)
            : o.allowPrivateSources === true,
      });
      const log = region.app.log;
      log.info({ url: region.url, store: region.store.kind, region: region.engine.owner }, 'region ready');
      if (region.adminTokenFile) {
        log.info(
          { file: region.adminTokenFile },
          'first start: admin token written (mode 0600); use it as the bearer token or run `ingot login`',
        );
      }
      process.stderr.write(
        `ingot: serving ${region.url} (store: ${region.store.kind}); admin token in ${o.data}/admin.token\n`,
      );
      if (region.tls) {
        log.info(
          { fingerprint: `sha256:${region.tls.fingerprint256}`, cert: region.tls.certFile },
          region.tls.generated ? 'generated a self-signed certificate' : 'serving HTTPS',
        );
        process.stderr.write(
          `ingot: TLS certificate ${region.tls.certFile}, fingerprint sha256:${region.tls.fingerprint256}\n` +
            `ingot: pin it with \`ingot login ${region.url} --fingerprint sha256:${region.tls.fingerprint256}\`\n`,
        );
      } else {
        log.warn(
          { url: region.url },
          'serving plain HTTP: tokens and BMC passwords cross this connection in clear',
        );
      }
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping: releasing job leases');
        await region.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
