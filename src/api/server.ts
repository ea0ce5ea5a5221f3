/**
 * The HTTP API of a region: Fastify, schemas from TypeBox, OpenAPI 3.1 from @fastify/swagger,
 * bearer auth on every route but /healthz, one error handler.
 */
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyHttpOptions,
  type FastifyInstance,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import type { Engine } from '../engine/engine.ts';
import type { RegionMetrics } from '../observe/metrics.ts';
import type { Store } from '../store/store.ts';
import type { ServerTls } from '../tls/server-cert.ts';
import { authHook } from './auth.ts';
import { bundleRoutes } from './routes/bundles.ts';
import { registerSecurityHeaders } from './headers.ts';
import { clientErrorHandler, errorHandler, frameworkErrors, notFoundHandler } from './errors.ts';
import { EventTail } from './event-stream.ts';
import { clusterBackupRoutes } from './routes/cluster-backups.ts';
import type { BackupService } from '../engine/cluster/backups.ts';
import type { KubePort } from '../kube/port.ts';
import { clusterNodeRoutes } from './routes/cluster-nodes.ts';
import { clusterScaleRoutes } from './routes/cluster-scale.ts';
import { clusterOperationRoutes } from './routes/cluster-operations.ts';
import { clusterRoutes } from './routes/clusters.ts';
import { consoleRoutes } from './routes/console.ts';
import { costRoutes } from './routes/cost.ts';
import { eventRoutes } from './routes/events.ts';
import { imageRoutes } from './routes/images.ts';
import { defaultArtifactsDir } from '../images/registry.ts';
import { SourcePolicy, type SourcePolicyOptions } from '../images/source-policy.ts';
import { machineRoutes } from './routes/machines.ts';
import { healthRoutes } from './routes/health.ts';
import { type SensorCache, sensorRoutes } from './routes/sensors.ts';
import { subnetRoutes } from './routes/subnets.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { SHARED_SCHEMAS } from './schemas/index.ts';
import { registerUi } from './ui.ts';
import { buildValidator, jsonParser } from './validation.ts';

export interface ServerDeps {
  store: Store;
  engine: Engine;
  metrics: RegionMetrics;
  logger?: Logger | false;
  /** The region's data dir (lab console logs live below it). */
  dataDir?: string;
  /** Which addresses URL imports (images, bundles) may fetch from (src/images/source-policy.ts). */
  sources?: SourcePolicyOptions;
  version?: string;
  /** Serve HTTPS with this certificate (src/tls/server-cert.ts); absent: plain HTTP. */
  tls?: ServerTls;
  /** Sensor reads shared with the region's power sampler. */
  sensorCache?: SensorCache;
  /** etcd backups of clusters (routes only when given). */
  backups?: { service: BackupService; kube?: KubePort };
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const options = {
    ...(deps.logger ? { loggerInstance: deps.logger as unknown as FastifyBaseLogger } : { logger: false }),
    // No per-request log lines: they would carry headers, and headers carry bearer tokens.
    logController: new LogController({ disableRequestLogging: true }),
    // Strict input (src/api/validation.ts): no coercion of body types, canonical numbers only
    // in query strings.
    schemaController: { compilersFactory: { buildValidator: buildValidator as never } },
    // Ids and names are at most 128 characters: up to this bound the route's schema answers
    // with a 400 naming the parameter; past it the router gives up (414, or 404 when the
    // console's catch-all route is there).
    routerOptions: { maxParamLength: 1024 },
    // Errors raised before a route runs, in the one error shape (src/api/errors.ts).
    frameworkErrors,
    clientErrorHandler: clientErrorHandler as (error: Error, socket: Socket) => void,
  } satisfies FastifyHttpOptions<Server>;
  // HTTPS is the same server on a TLS socket; Fastify's types split the two, our routes don't care.
  const app = Fastify(
    (deps.tls
      ? { ...options, https: { cert: deps.tls.certPem, key: deps.tls.keyPem } }
      : options) as FastifyHttpOptions<Server>,
  ).withTypeProvider<TypeBoxTypeProvider>();
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonParser);

  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ingot region API',
        version: deps.version ?? '0.1.0',
        description: 'Bare-metal machines, their lifecycle, subnets and tokens.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (json.$id as string) ?? `def-${i}` },
  });

  await registerSecurityHeaders(app as unknown as FastifyInstance);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', authHook(deps.store));
  // No body at all (`curl -X POST …/actions/power-on`) means `{}` on every route that takes a
  // JSON body, as an empty JSON body does (jsonParser): the route's schema then says what is missing.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.routeOptions.schema?.body) req.body = {};
  });
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/healthz', { config: { role: 'public' }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { config: { role: 'viewer' }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.text();
  });

  const tail = new EventTail(deps.store);
  app.addHook('onClose', async () => tail.stop());
  await app.register(
    async (v1) => {
      v1.get('/openapi.json', { config: { role: 'viewer' }, schema: { hide: true } }, async () =>
        app.swagger(),
      );
      v1.get(
        '/version',
        {
          config: { role: 'viewer' },
          schema: {
            tags: ['system'],
            response: {
              200: Type.Object({ version: Type.String(), store: Type.String(), region: Type.String() }),
            },
          },
        },
        async () => ({
          version: deps.version ?? '0.1.0',
          store: deps.store.kind,
          region: deps.engine.owner,
        }),
      );
      v1.get(
        '/tls',
        {
          config: { role: 'viewer' },
          schema: {
            tags: ['system'],
            description:
              'Whether the region serves HTTPS, and the SHA-256 fingerprint of its certificate (what `ingot login` pins).',
            response: {
              200: Type.Object({
                https: Type.Boolean(),
                fingerprint: Type.Union([Type.String(), Type.Null()]),
                generated: Type.Boolean({ description: 'a self-signed certificate the region generated' }),
              }),
            },
          },
        },
        async () => ({
          https: deps.tls !== undefined,
          fingerprint: deps.tls ? `sha256:${deps.tls.fingerprint256}` : null,
          generated: deps.tls?.selfSigned ?? false,
        }),
      );
      await v1.register(machineRoutes(deps.store, deps.engine));
      await v1.register(subnetRoutes(deps.store));
      await v1.register(tokenRoutes(deps.store));
      await v1.register(eventRoutes(deps.store, tail));
      if (deps.dataDir) {
        await v1.register(consoleRoutes(deps.store, { dataDir: deps.dataDir }));
        // One source policy for every URL import, OS images and bundles alike.
        const sources = new SourcePolicy(deps.sources);
        const artifactsDir = defaultArtifactsDir(deps.dataDir);
        await v1.register(imageRoutes(deps.store, { artifactsDir, sources }));
        await v1.register(bundleRoutes(deps.store, { artifactsDir, sources }));
      }
      await v1.register(clusterRoutes(deps.store, deps.engine));
      await v1.register(clusterNodeRoutes(deps.engine, deps.store));
      if (deps.backups) await v1.register(clusterBackupRoutes(deps.store, deps.backups.service));
      await v1.register(clusterScaleRoutes(deps.engine));
      await v1.register(clusterOperationRoutes(deps.store, deps.engine.kube));
      await v1.register(sensorRoutes(deps.store, { cache: deps.sensorCache, bmcs: deps.engine.worker.bmcs }));
      await v1.register(healthRoutes(deps.store));
      await v1.register(costRoutes(deps.store, { kube: deps.engine.kube }));
    },
    { prefix: '/api/v1' },
  );
  // The web console (ui/dist) at `/`; src/api/ui.ts.
  await registerUi(app as unknown as FastifyInstance);
  return app as unknown as FastifyInstance;
}
