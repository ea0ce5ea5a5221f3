/**
 * A region: the store, the engine (worker + watchdog) and the HTTP API in one process.
 * `ingot serve` starts one; several can share one PostgreSQL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import '../bmc/fake.ts';
import '../bmc/index.ts';
import { BundleRegistry } from '../bundles/registry.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { AgentPort } from '../engine/agent-port.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import { DEFAULT_LIMITS, KeyedSemaphores } from '../engine/limits.ts';
import { healthMetrics } from '../health/metrics.ts';
import { HardwareWatch } from '../engine/cluster/hardware-watch.ts';
import { type HealthPoller, startHealthPoller } from '../health/poller.ts';
import { FakeAgent } from '../engine/fake-agent.ts';
import { type AgentTasksPortOptions, agentRegionPort } from '../engine/agent-tasks-port.ts';
import type { ClusterLimits } from '../engine/cluster/steps.ts';
import { POLL } from '../engine/steps.ts';
import { KubeClient } from '../kube/client.ts';
import { FakeKube, regionKube } from '../kube/fake.ts';
import { reviveSimulatedClusters } from '../engine/cluster/simulated.ts';
import type { NodeShell } from '../kube/etcd/shell.ts';
import type { KubePort } from '../kube/port.ts';
import { defaultArtifactsDir, ImageRegistry, STALE_IMPORT_MS } from '../images/registry.ts';
import { createMetrics } from '../observe/metrics.ts';
import { privateDir } from '../store/data-dir.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { checkPlainHttp, PlainHttp } from '../tls/plain-http.ts';
import { loadServerTls, type ServerTls } from '../tls/server-cert.ts';
import { hashToken, newTokenSecret } from './auth.ts';
import { type PowerSampler, startPowerSampler } from './power-sampler.ts';
import { SensorCache, sensorReader } from './routes/sensors.ts';
import { buildServer } from './server.ts';
import { BackupService } from '../engine/cluster/backups.ts';
import { backupSnapshot } from '../engine/cluster/backup-restore.ts';
import type { ClusterRestoreDeps } from '../engine/cluster/restore-run.ts';

export interface RegionOptions {
  dataDir: string;
  /** `HOST:PORT`. @default 127.0.0.1:8080 */
  listen?: string;
  database?: string;
  secretKeyFile?: string;
  /** @default 30 seconds */
  leaseMs?: number;
  /** Delay of the simulated agent's tasks (until the real agent is wired in). @default 2000 ms */
  simulatedAgentDelayMs?: number;
  agentPollMs?: number;
  limits?: { global?: number; perRack?: number; perBmc?: number };
  logLevel?: string;
  logger?: Logger;
  agent?: AgentPort;
  /**
   * How cluster jobs reach their clusters' Kubernetes APIs; default: the real client, and an
   * in-memory API for simulated clusters (fake:// members, which the simulated agent bootstraps).
   */
  kube?: KubePort;
  /** The in-memory Kubernetes of simulated (fake://) clusters; tests pass theirs to steer it. */
  simulatedKube?: FakeKube;
  /** Member deploys and worker joins a cluster job runs at once, and its poll interval. */
  clusterLimits?: Partial<ClusterLimits>;
  /** A shell on clusters' nodes for the etcd snapshot an operation takes first (the test bed's); none: skipped. */
  nodeShell?: NodeShell;
  /** Restores' node-task waits, API deadline or a NodeShell of their own (tests). */
  restore?: Partial<Omit<ClusterRestoreDeps, 'read'>>;
  /** Remediation passes on running clusters: how often (0: none) and the loop's options. */
  remediationIntervalMs?: number;
  remediation?: EngineOptions['remediation'];
  /** The real agent's port (silence and pickup limits, test/wipe policy, image resolver). */
  agentTasks?: AgentTasksPortOptions;
  /**
   * Let URL imports (images, bundles) fetch from loopback, link-local and the region's own
   * addresses: `true` for all, or the addresses and CIDRs allowed. @default refused
   */
  allowPrivateSources?: boolean | readonly string[];
  /** The operator's certificate and key (PEM files); neither: a self-signed one in `DATA/tls/`. */
  tls?: { certFile?: string; keyFile?: string };
  /** Plain HTTP instead of HTTPS: on loopback only, or anywhere (`insecure`). @default off */
  plainHttp?: PlainHttp;
  /** How often every machine's BMC sensors are read for its power readings; 0 turns it off. @default 15 minutes */
  powerSampleMs?: number;
  /** How often every machine's BMC sensors and SEL are polled for its health history; 0 turns it off. @default 5 minutes */
  healthPollMs?: number;
  /** How often etcd backup schedules are looked at and backups claimed (engine/cluster/backups.ts). @default 15 s */
  backupTickMs?: number;
}

export interface Region {
  readonly store: SqlStore;
  readonly engine: Engine;
  readonly backups: BackupService;
  readonly app: FastifyInstance;
  /** `https://HOST:PORT`, or `http://` when serving plain HTTP. */
  readonly url: string;
  /** The certificate served, null on plain HTTP. */
  readonly tls: ServerTls | null;
  /** Set when this start created the first admin token. */
  readonly adminTokenFile: string | null;
  /** The BMC power sampler (src/api/power-sampler.ts); null when turned off. */
  readonly powerSampler: PowerSampler | null;
  /** The hardware health poller (src/health/poller.ts); null when turned off. */
  readonly healthPoller: HealthPoller | null;
  /** Hardware-driven drain (src/engine/cluster/hardware-watch.ts), run after each health round. */
  readonly hardwareWatch: HardwareWatch;
  stop(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  const port = Number(m?.[2]);
  if (!m?.[1] || port > 65535) {
    throw new IngotError(
      ErrorCode.Config,
      `--listen: "${listen}" is not HOST:PORT; write it like 127.0.0.1:8080`,
      { details: { field: 'listen' } },
    );
  }
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/** Creates the first admin token when the store has none, and writes it to the data dir. */
async function bootstrapAdmin(store: SqlStore, dataDir: string): Promise<string | null> {
  if ((await store.listTokens()).length > 0) return null;
  const secret = newTokenSecret();
  await store.createToken({ name: 'admin', role: 'admin', hash: hashToken(secret), expiresAt: null });
  const file = join(dataDir, 'admin.token');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return file;
}

export async function startRegion(o: RegionOptions): Promise<Region> {
  const logger =
    o.logger ??
    pino({
      level: o.logLevel ?? 'info',
      redact: ['req.headers.authorization', '*.password', '*.secret', '*.secretKey'],
    });
  const { host, port } = parseListen(o.listen ?? '127.0.0.1:8080');
  const plainHttp = o.plainHttp ?? PlainHttp.Off;
  checkPlainHttp(plainHttp, [host]);
  privateDir(o.dataDir);
  const tls =
    plainHttp === PlainHttp.Off
      ? await loadServerTls({ dataDir: o.dataDir, service: 'region', ...o.tls, hosts: [host] })
      : null;
  const store = await openStore({ dataDir: o.dataDir, database: o.database, secretKeyFile: o.secretKeyFile });
  const adminTokenFile = await bootstrapAdmin(store, o.dataDir);
  // Imports cut short by the last stop (kill -9, power loss) fail now, saying so, instead of
  // staying `importing` with a partial file under images/.incoming/.
  const interrupted = await new ImageRegistry(store, defaultArtifactsDir(o.dataDir)).recoverInterrupted({
    olderThanMs: store.kind === 'sqlite' ? 0 : STALE_IMPORT_MS,
  });
  // Bundle imports this region was running when it stopped: failed, with their partial files removed.
  for (const b of await new BundleRegistry(store, defaultArtifactsDir(o.dataDir)).recoverInterrupted())
    logger.warn(
      { bundle: b.id, reason: b.statusReason },
      'bundle import interrupted by a region stop: marked failed',
    );
  if (o.agentPollMs !== undefined) POLL.agentMs = o.agentPollMs;
  const metrics = createMetrics(store);
  const health = healthMetrics(store);
  metrics.append(() => health.exposition());
  const simulatedKube = o.simulatedKube ?? new FakeKube();
  await reviveSimulatedClusters(store, simulatedKube);
  // One per-BMC limit for every BMC caller of this region: jobs, health polls, sensor pages.
  const bmcs = new KeyedSemaphores(o.limits?.perBmc ?? DEFAULT_LIMITS.perBmc);
  const clusterKube = o.kube ?? regionKube(simulatedKube, new KubeClient());
  const engine = new Engine({
    bmcs,
    store,
    agent:
      o.agent ??
      agentRegionPort(
        () => store,
        new FakeAgent({ delayMs: o.simulatedAgentDelayMs ?? 2000, kube: simulatedKube }),
        o.agentTasks,
      ),
    leaseMs: o.leaseMs,
    limits: o.limits,
    hooks: metrics.hooks,
    cluster: {
      kube: clusterKube,
      limits: o.clusterLimits,
      snapshots: o.nodeShell ? { shell: o.nodeShell, artifacts: defaultArtifactsDir(o.dataDir) } : undefined,
      // A restore reads its backup through the region's BackupService (made below, read at run time).
      restore: {
        artifactsDir: defaultArtifactsDir(o.dataDir),
        read: (c, id) => backupSnapshot(backups, c, id),
        ...o.restore,
      },
    },
    remediationIntervalMs: o.remediationIntervalMs,
    // The remediation's control-plane port stages files for node agents in the artifact store.
    remediation: { artifactsDir: defaultArtifactsDir(o.dataDir), ...o.remediation },
  });
  const backups = new BackupService({
    store,
    artifactsDir: defaultArtifactsDir(o.dataDir),
    owner: engine.owner,
    tickMs: o.backupTickMs,
  });
  const hardwareWatch = new HardwareWatch({ store, kube: clusterKube, log: logger });
  const sensorCache = new SensorCache();
  const app = await buildServer({
    store,
    engine,
    metrics,
    sensorCache,
    backups: { service: backups, kube: clusterKube },
    logger,
    dataDir: o.dataDir,
    sources: { allowPrivate: o.allowPrivateSources },
    tls: tls ?? undefined,
  });
  try {
    await app.listen({ host, port });
  } catch (e) {
    await app.close();
    await store.close();
    const err = e as NodeJS.ErrnoException;
    throw new IngotError(
      ErrorCode.Config,
      err.code === 'EADDRINUSE'
        ? `--listen: ${host}:${port} is in use; stop the other process or pick another port`
        : `cannot listen on ${host}:${port}: ${err.message}`,
      { details: { field: 'listen' } },
    );
  }
  engine.start();
  backups.start();
  const sampleMs = o.powerSampleMs ?? 15 * 60_000;
  const powerSampler =
    sampleMs > 0
      ? startPowerSampler({
          store,
          read: sensorReader(store, sensorCache, Date.now, bmcs),
          intervalMs: sampleMs,
          log: app.log,
        })
      : null;
  const healthMs = o.healthPollMs ?? 300_000;
  const healthPoller =
    healthMs > 0
      ? startHealthPoller({
          store,
          bmcs,
          intervalMs: healthMs,
          deadlineMs: Math.min(30_000, healthMs),
          log: app.log,
          afterRound: () => hardwareWatch.pass(),
        })
      : null;
  for (const img of interrupted)
    logger.warn({ image: img.name }, 'an image import was interrupted by the last stop; marked failed');
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  let stopped = false;
  return {
    store,
    engine,
    backups,
    app,
    url,
    tls,
    adminTokenFile,
    powerSampler,
    healthPoller,
    hardwareWatch,
    async stop() {
      if (stopped) return;
      stopped = true;
      powerSampler?.stop();
      await healthPoller?.stop();
      await backups.stop();
      await engine.stop();
      await app.close();
      await store.close();
    },
  };
}
