/**
 * Kubernetes' version-skew policy as the checks an upgrade must pass before it starts (pure):
 *
 * - one minor at a time: the target is the current minor or the next one, never two ahead,
 *   never older (kubeadm does not downgrade);
 * - the control planes agree before a roll starts (a mixed set is a roll that did not finish:
 *   finish it first), or are already between the current version and the target (resuming);
 * - a kubelet is never newer than the oldest API server, and at most two minors older than
 *   it — after the control planes are upgraded too, so an upgrade that would leave a kubelet
 *   three minors behind is refused;
 * - kubeadm drives the upgrade at the target's minor, and is not older than the target.
 */

export interface KubeVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

const RE = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/;

export function parseKubeVersion(v: string): KubeVersion | null {
  const m = RE.exec(v.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : null;
}

export function compareVersions(a: KubeVersion, b: KubeVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export const showVersion = (v: KubeVersion) => `v${v.major}.${v.minor}.${v.patch}`;

/** How many minors `a` is ahead of `b` (negative when behind); across majors it is not defined. */
function minorsAhead(a: KubeVersion, b: KubeVersion): number {
  return a.major === b.major ? a.minor - b.minor : (a.major - b.major) * 1000;
}

export interface SkewInput {
  /** The target version of the roll. */
  readonly target: string;
  /** Each control plane's API server version. */
  readonly apiServers: readonly { readonly node: string; readonly version: string }[];
  /** Each node's kubelet version. */
  readonly kubelets: readonly { readonly node: string; readonly version: string }[];
  /** The kubeadm that will run the upgrade (null for distributions without kubeadm). */
  readonly kubeadm: string | null;
}

/** Why the upgrade may not start, one line per broken rule; empty when it may. */
export function skewProblems(input: SkewInput): string[] {
  const problems: string[] = [];
  const target = parseKubeVersion(input.target);
  if (!target) return [`target: "${input.target}" is not a Kubernetes version such as v1.21.3`];
  const parsed = <T extends { node: string; version: string }>(xs: readonly T[], what: string) =>
    xs.flatMap((x) => {
      const v = parseKubeVersion(x.version);
      if (!v) problems.push(`${x.node}: its ${what} reports "${x.version}", not a version`);
      return v ? [{ node: x.node, v }] : [];
    });
  const apis = parsed(input.apiServers, 'API server');
  const kubelets = parsed(input.kubelets, 'kubelet');
  if (!apis.length) return [...problems, 'no API server version known: is the control plane up?'];
  const sorted = [...apis].sort((a, b) => compareVersions(a.v, b.v));
  const oldest = sorted[0];
  const newest = sorted.at(-1)!;

  if (compareVersions(target, newest.v) < 0)
    problems.push(
      `target ${showVersion(target)} is older than ${newest.node}'s API server ${showVersion(newest.v)}: downgrades are not supported; restore an etcd snapshot instead`,
    );
  if (minorsAhead(target, oldest.v) > 1)
    problems.push(
      `target ${showVersion(target)} skips a minor: ${oldest.node}'s API server is ${showVersion(oldest.v)}; upgrade one minor at a time (to v${oldest.v.major}.${oldest.v.minor + 1}.x first)`,
    );
  // A mixed control plane is fine only when each is either where the roll started or at the target.
  const versions = new Set(apis.map((a) => showVersion(a.v)));
  if (versions.size > 1 && !(versions.size === 2 && versions.has(showVersion(target))))
    problems.push(
      `the control planes run different versions (${[...versions].sort().join(', ')}): finish the roll that left them so before starting another`,
    );

  for (const k of kubelets) {
    if (compareVersions(k.v, oldest.v) > 0)
      problems.push(
        `${k.node}'s kubelet ${showVersion(k.v)} is newer than ${oldest.node}'s API server ${showVersion(oldest.v)}: a kubelet may never be newer than the API server`,
      );
    else if (minorsAhead(target, k.v) > 2)
      problems.push(
        `${k.node}'s kubelet ${showVersion(k.v)} would be more than two minors behind ${showVersion(target)}: upgrade that node first`,
      );
  }

  if (input.kubeadm !== null) {
    const ka = parseKubeVersion(input.kubeadm);
    if (!ka) problems.push(`kubeadm: "${input.kubeadm}" is not a version`);
    else if (ka.major !== target.major || ka.minor !== target.minor || ka.patch < target.patch)
      problems.push(
        `kubeadm ${showVersion(ka)} cannot upgrade to ${showVersion(target)}: it must be v${target.major}.${target.minor}.x, at least ${showVersion(target)} (the bundle of the target version carries it)`,
      );
  }
  return problems;
}
