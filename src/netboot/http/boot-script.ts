/**
 * GET /boot/<mac>.ipxe: the per-machine iPXE script. Machines in a state that needs the agent
 * get the ephemeral OS with a fresh boot token on the kernel line; the others boot from local
 * disk by their chosen method. Every answer goes on the machine's timeline.
 */
import { ErrorCode } from '../../core/errors.ts';
import { EPHEMERAL_STATES } from '../../core/lifecycle.ts';
import { normalizeMac } from '../../core/machine.ts';
import { BootEvent, macPath } from '../urls.ts';
import type { Handler } from './context.ts';
import { sendRefusal, sendText } from './context.ts';
import { sourceIp } from './identify.ts';
import { ephemeralArgs, ephemeralScript, LocalBoot, localBootOf, localBootScript } from './scripts.ts';
import { hashBootToken, newBootToken } from './tokens.ts';

export const bootScript: Handler = async (req, res, url, ctx) => {
  const ip = sourceIp(req);
  const m = /^\/boot\/([0-9a-fA-F-]{17})\.ipxe$/.exec(url.pathname);
  const mac = m ? normalizeMac(m[1]) : null;
  if (!mac)
    return sendRefusal(
      res,
      ErrorCode.NotFound,
      'not a boot script path: use /boot/<aa-bb-cc-dd-ee-ff>.ipxe\n',
    );
  const machine = await ctx.store.findMachineByMac(mac);
  if (!machine) {
    ctx.log.warn({ mac, ip }, 'iPXE script asked for by an unknown MAC; enrol the machine first');
    ctx.events.push({
      type: BootEvent.IpxeScript,
      level: 'warning',
      actor: 'rack',
      message: `iPXE script for unknown MAC ${mac} from ${ip}: 404 (enrol the machine)`,
      data: { mac, ip, status: 404 },
    });
    return sendRefusal(res, ErrorCode.NotFound, `#!ipxe\necho Ingot: MAC ${mac} is not enrolled\nexit\n`);
  }
  const base = { type: BootEvent.IpxeScript, actor: 'rack', machineId: machine.id } as const;
  if (EPHEMERAL_STATES.has(machine.state)) {
    if (!ctx.ephemeral) {
      ctx.log.error({ mac, machine: machine.id }, 'no ephemeral OS image is configured');
      ctx.events.push({
        ...base,
        level: 'error',
        message: `no ephemeral OS configured on this rack: cannot boot ${machine.state} machine; configure rack services with an ephemeral image`,
        data: { mac, ip, status: 503, state: machine.state },
      });
      return sendRefusal(
        res,
        ErrorCode.Unavailable,
        '#!ipxe\necho Ingot: no ephemeral OS image configured on this rack\nexit\n',
      );
    }
    const token = newBootToken();
    await ctx.store.setMachineBootToken(machine.id, hashBootToken(token), Date.now() + ctx.tokenTtlMs);
    const q = `?m=${macPath(mac)}`;
    const img = ctx.ephemeral;
    const script = ephemeralScript({
      kernelUrl: `${ctx.publicUrl}/artifacts/${img.kernel}${q}`,
      initrdUrl: `${ctx.publicUrl}/artifacts/${img.initrd}${q}`,
      args: ephemeralArgs({ agentUrl: ctx.agentUrl, token, pin: ctx.pin, extra: img.extraArgs }),
    });
    ctx.events.push({
      ...base,
      message: `iPXE script from ${ip}: ephemeral OS (${machine.state})`,
      data: {
        mac,
        ip,
        status: 200,
        state: machine.state,
        boot: 'ephemeral',
        kernel: img.kernel,
        initrd: img.initrd,
      },
    });
    return sendText(res, 200, script);
  }
  const mode = localBootOf(machine);
  const script = localBootScript(mode, `machine is ${machine.state}`);
  ctx.events.push({
    ...base,
    message: `iPXE script from ${ip}: local disk (${mode}, machine is ${machine.state})`,
    data: { mac, ip, status: script === null ? 404 : 200, state: machine.state, boot: `local-${mode}` },
  });
  if (script === null || mode === LocalBoot.NotFound)
    return sendRefusal(res, ErrorCode.NotFound, 'boot from local disk\n');
  return sendText(res, 200, script);
};
