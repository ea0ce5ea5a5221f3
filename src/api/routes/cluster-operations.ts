/**
 * A cluster's day-2 operations over HTTP (docs/day2.md "Operations"): start a rolling
 * reconfigure from a changed Cluster file or a certificate rotation (202; 409 INGOT_OPERATION_RUNNING naming the one
 * that runs), list them (or read one) with each node's progress, and pause, resume or abort the active one.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { ClusterOperation } from '../../core/operation.ts';
import {
  controlClusterOperation,
  startCertRotation,
  startReconfigure,
  startUpgrade,
} from '../../engine/cluster/operation-actions.ts';
import { startOsReplace } from '../../engine/cluster/operation-os-replace.ts';
import type { KubePort } from '../../kube/port.ts';
import type { Store } from '../../store/store.ts';
import { actorOf } from '../auth.ts';
import {
  ClusterNameParams,
  ClusterOperationList,
  errorResponses,
  OperationControlParams,
  OperationParams,
  OsReplaceBody,
  ReconfigureBody,
  UpgradeBody,
} from '../schemas/index.ts';

const tags = ['clusters'];

/** What the API shows of an operation (the new Cluster file stays on the cluster). */
const shown = (o: ClusterOperation) => ({
  ...o,
  params: {
    changes: o.params.changes,
    maxUnavailable: o.params.maxUnavailable,
    ...(o.params.target ? { target: o.params.target } : {}),
    ...(o.params.image ? { image: o.params.image } : {}),
    ...(o.params.backup ? { backup: o.params.backup } : {}),
    ...(o.params.node ? { node: o.params.node } : {}),
    ...(o.params.timeoutSeconds !== undefined ? { timeoutSeconds: o.params.timeoutSeconds } : {}),
    ...(o.params.force !== undefined ? { force: o.params.force } : {}),
    ...(o.params.reason ? { reason: o.params.reason } : {}),
  },
});

export function clusterOperationRoutes(store: Store, kube: KubePort | null): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/clusters/:name/reconfigure', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary:
          'Roll a changed Cluster file out: etcd snapshot, control planes one at a time, workers in batches (409 while another operation runs)',
        params: ClusterNameParams,
        body: ReconfigureBody,
        response: { 202: Type.Ref('ClusterOperation'), ...errorResponses },
      },
      handler: async (req, reply) => {
        const { operation } = await startReconfigure(store, req.params.name, {
          clusterFile: req.body.cluster,
          maxUnavailable: req.body.maxUnavailable,
          actor: actorOf(req),
        });
        reply.code(202);
        return shown(operation);
      },
    });

    app.post('/clusters/:name/upgrade', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary:
          'Upgrade the cluster one minor at most (version-skew rules checked first, 400 naming each broken one): etcd snapshot, kubeadm upgrade apply on the first control plane, upgrade node on the others, workers in batches drained through the Eviction API (409 while another operation runs)',
        params: ClusterNameParams,
        body: UpgradeBody,
        response: { 202: Type.Ref('ClusterOperation'), ...errorResponses },
      },
      handler: async (req, reply) => {
        const { operation } = await startUpgrade(store, kube, req.params.name, {
          version: req.body.version,
          maxUnavailable: req.body.maxUnavailable,
          actor: actorOf(req),
        });
        reply.code(202);
        return shown(operation);
      },
    });

    app.post('/clusters/:name/os-replace', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary:
          'Replace the nodes’ OS in a roll (immutable upgrade): the control planes named first, one at a time (the etcd snapshot, quorum checked, drained, etcd member removed, redeployed, kubeadm join --control-plane with fresh credentials, member healthy, Ready), then the workers, per node cordoned and drained through the Eviction API, its Node deleted, its machine redeployed with the image, joined again with a fresh token, uncordoned and Ready before the next batch (400 naming a control plane of a cluster with external etcd or fewer than 3; 409 while another operation runs)',
        params: ClusterNameParams,
        body: OsReplaceBody,
        response: { 202: Type.Ref('ClusterOperation'), ...errorResponses },
      },
      handler: async (req, reply) => {
        const { operation } = await startOsReplace(store, req.params.name, {
          image: req.body.image,
          maxUnavailable: req.body.maxUnavailable,
          nodes: req.body.nodes,
          actor: actorOf(req),
        });
        reply.code(202);
        return shown(operation);
      },
    });

    app.post('/clusters/:name/rotate-certificates', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary:
          'Renew the control planes’ certificates (kubeadm certs renew all), one control plane at a time, static pods restarted, API healthy before the next (409 while another operation runs)',
        params: ClusterNameParams,
        response: { 202: Type.Ref('ClusterOperation'), ...errorResponses },
      },
      handler: async (req, reply) => {
        const { operation } = await startCertRotation(store, req.params.name, { actor: actorOf(req) });
        reply.code(202);
        return shown(operation);
      },
    });

    app.get('/clusters/:name/operations', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: "The cluster's operations, newest first, with each node's progress",
        params: ClusterNameParams,
        response: { 200: ClusterOperationList, ...errorResponses },
      },
      handler: async (req) => {
        const cluster = await store.getCluster(req.params.name);
        return (await store.listOperations(cluster.id)).map(shown);
      },
    });

    app.get('/clusters/:name/operations/:id', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary:
          "One of the cluster's operations, with each node's progress (how a drain or a restore is followed)",
        params: OperationParams,
        response: { 200: Type.Ref('ClusterOperation'), ...errorResponses },
      },
      handler: async (req) => {
        const cluster = await store.getCluster(req.params.name);
        const op = await store.getOperation(req.params.id);
        if (op.clusterId !== cluster.id)
          throw new IngotError(
            ErrorCode.NotFound,
            `operation ${req.params.id} is not one of cluster ${cluster.name}'s (\`ingot cluster operations ${cluster.name}\` lists them)`,
            { details: { cluster: cluster.name, operation: req.params.id } },
          );
        return shown(op);
      },
    });

    app.post('/clusters/:name/operations/active/:control', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary:
          "Pause, resume or abort the cluster's running operation (409 names the controls its state allows)",
        params: OperationControlParams,
        response: { 200: Type.Ref('ClusterOperation'), ...errorResponses },
      },
      handler: async (req) =>
        shown(await controlClusterOperation(store, req.params.name, req.params.control, actorOf(req))),
    });
  };
}
