import { controlPlanes, type RenderContext } from './context.ts';

/**
 * HAProxy in TCP mode in front of the API servers (and RKE2's supervisor port), health-checking
 * each with GET /readyz so a starting or broken API server gets no traffic.
 */
export function haproxyConfig(ctx: RenderContext): string {
  const s = ctx.spec.spec;
  const cps = controlPlanes(ctx);
  const ports: [string, number, number][] = [['kube-apiserver', s.endpoint.port, s.endpoint.port]];
  if (s.distribution === 'rke2') ports.push(['rke2-supervisor', 9345, 9345]);
  const lines = [
    `# Rendered by Ingot: API load balancer of cluster ${ctx.spec.metadata.name}.`,
    'global',
    '    log /dev/log local0',
    '    maxconn 20000',
    '    daemon',
    '',
    'defaults',
    '    mode tcp',
    '    log global',
    '    option tcplog',
    '    option dontlognull',
    '    timeout connect 5s',
    '    timeout client 1h',
    '    timeout server 1h',
    '',
  ];
  for (const [name, front, back] of ports) {
    lines.push(`frontend ${name}`, `    bind :${front}`, `    default_backend ${name}`, '');
    lines.push(`backend ${name}`, '    balance roundrobin');
    if (name === 'kube-apiserver')
      lines.push('    option httpchk GET /readyz', '    http-check expect status 200');
    lines.push(
      `    default-server inter 5s fall 3 rise 2${name === 'kube-apiserver' ? ' check-ssl verify none' : ''}`,
    );
    for (const cp of cps) lines.push(`    server ${cp.hostname} ${cp.ip}:${back} check`);
    lines.push('');
  }
  return lines.join('\n');
}

/** keepalived for one load-balancer host: the first host starts as the preferred owner of the address. */
export function keepalivedConfig(ctx: RenderContext, host: string, index: number): string {
  const lb = ctx.spec.spec.endpoint.externalLoadBalancer;
  return [
    `# Rendered by Ingot: ${host} holds ${ctx.spec.spec.endpoint.address} while HAProxy runs.`,
    'global_defs {',
    `    router_id ${host}`,
    '    enable_script_security',
    '    script_user root',
    '}',
    '',
    'vrrp_script chk_haproxy {',
    '    script "/usr/bin/systemctl is-active --quiet haproxy"',
    '    interval 2',
    '    fall 2',
    '    rise 2',
    '}',
    '',
    'vrrp_instance kube_api {',
    '    state BACKUP',
    `    interface ${lb.interface}`,
    `    virtual_router_id ${lb.virtualRouterId}`,
    `    priority ${150 - index * 10}`,
    '    advert_int 1',
    '    virtual_ipaddress {',
    `        ${ctx.spec.spec.endpoint.address}/32 dev ${lb.interface}`,
    '    }',
    '    track_script {',
    '        chk_haproxy',
    '    }',
    '}',
    '',
  ].join('\n');
}
