/**
 * POST /agent/v1/node-smart: a deployed machine's node agent sends its disks' SMART (smartctl's
 * JSON per disk, every `INGOT_SMART_INTERVAL_S`), with the machine's OS token from an address
 * leased to it. Each disk is kept by its serial in disk_health (source `node-agent`), beside
 * commissioning's reports, so the health metrics and alerts cover deployed machines too. A disk
 * newly at risk gets a `health.disk-at-risk` event on the machine's timeline.
 */
import { diskRisk } from '../../core/health.ts';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import { checkNodeSmartReport, MAX_NODE_SMART_BYTES } from '../../core/node-agent-protocol.ts';
import { nodeAgentCaller } from './agent-auth.ts';
import type { Handler } from './context.ts';
import { readSmallBody, sendError, sendJson } from './context.ts';

export const DISK_AT_RISK_EVENT = 'health.disk-at-risk';

export const agentNodeSmart: Handler = async (req, res, _url, ctx) => {
  const caller = await nodeAgentCaller(req, res, ctx, 'a SMART report');
  if (!caller) return;
  const { machine } = caller;
  const raw = await readSmallBody(req, MAX_NODE_SMART_BYTES);
  if (raw === null)
    return sendError(res, new IngotError(ErrorCode.PayloadTooLarge, 'body: a SMART report is at most 4 MiB'));
  let report: ReturnType<typeof checkNodeSmartReport>;
  try {
    report = checkNodeSmartReport(JSON.parse(raw || '{}'), machine.id, Date.now());
  } catch (e) {
    return sendError(res, e instanceof IngotError ? e : invalid('body', `not JSON: ${(e as Error).message}`));
  }
  // What each disk's newest report said before this one: an event only when a disk turns at risk.
  // (Oldest first: the newest report of a serial wins. Since the last day: the reports are hourly.)
  const before = new Map(
    (await ctx.store.diskHealthHistory(machine.id, Date.now() - 86_400_000))
      .sort((a, b) => a.at - b.at)
      .map((d) => [d.serial, diskRisk(d)]),
  );
  const stored = report.disks.length ? await ctx.store.recordDiskHealth(report.disks) : 0;
  for (const d of report.disks) {
    const risk = diskRisk(d);
    if (!risk || before.get(d.serial) === risk) continue;
    await ctx.events.write({
      type: DISK_AT_RISK_EVENT,
      actor: 'agent',
      machineId: machine.id,
      jobId: null,
      level: d.passed === false ? 'error' : 'warning',
      message: `disk ${d.serial} (${d.device}) is at risk: ${risk}`,
      data: { serial: d.serial, device: d.device, risk },
    });
  }
  sendJson(res, 200, { stored, skipped: report.skipped });
};
