import { PKI_FILES } from '../pki/types.ts';
import type { RenderContext } from './context.ts';
import { toYamlDirect } from './yaml-emit.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The admin kubeconfig, pointing at the cluster's API endpoint. A secret: written 0600. */
export function adminKubeconfig(ctx: RenderContext): string {
  const name = ctx.spec.metadata.name;
  const f = ctx.pki.files;
  const user = `${name}-admin`;
  return toYamlDirect({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name, cluster: { server: ctx.plan.endpoint, 'certificate-authority-data': b64(f[PKI_FILES.ca]) } },
    ],
    users: [
      {
        name: user,
        user: { 'client-certificate-data': b64(f[PKI_FILES.admin]), 'client-key-data': b64(f['admin.key']) },
      },
    ],
    contexts: [{ name: `${user}@${name}`, context: { cluster: name, user } }],
    'current-context': `${user}@${name}`,
    preferences: {},
  });
}
