/**
 * The rendered `kubeadm join` step, run by bash with stand-ins for kubeadm, kubectl and
 * journalctl on PATH (the real join is exercised on the test bed, test/cluster-testbed.test.ts):
 * a worker whose kubelet finishes its TLS bootstrap after kubeadm stopped waiting is joined; one
 * whose kubeadm stopped before it started the kubelet is tried again (3 tries, none after the
 * window) and fails with kubeadm's error; one whose kubeadm gave up on the TLS bootstrap and
 * removed the bootstrap kubeconfig (leaving the CA) is joined once its kubelet finishes; one
 * whose kubelet never bootstraps fails with the kubelet's journal; a control plane fails as
 * kubeadm failed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { PlannedNode } from '../plan/types.ts';
import { JOIN_RETRY_WINDOW_S, JOIN_TRIES, kubeadmJoin } from './bootstrap.ts';
import { CRI_SOCKET } from './kubeadm.ts';

const root = mkdtempSync(path.join(tmpdir(), 'ingot-join-'));
after(() => rmSync(root, { recursive: true, force: true }));

const node = (role: PlannedNode['role']) => ({ hostname: 'w1', role }) as PlannedNode;

interface Case {
  /** What the stand-in kubeadm does before exiting with `code`. */
  kubeadm: string;
  code: number;
  /** Seconds after the join's start the "kubelet" writes kubelet.conf; null: never. */
  kubeletAfter: number | null;
  /** The retry window, in seconds, in place of the rendered one. */
  window?: number;
  /** What the stand-in systemctl does (default: nothing). */
  systemctl?: string;
}

let n = 0;
function runJoin(role: PlannedNode['role'], c: Case) {
  const dir = path.join(root, String(n++));
  const bin = path.join(dir, 'bin');
  const etc = path.join(dir, 'etc');
  for (const d of [bin, etc]) spawnSync('mkdir', ['-p', d]);
  const tool = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> ${dir}/calls\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  tool('kubeadm', `${c.kubeadm}\nexit ${c.code}`);
  tool(
    'kubectl',
    '[ "$3 $4" = "get csr" ] && echo "csr-x   5m   kubernetes.io/kube-apiserver-client-kubelet   system:bootstrap:abcdef   Pending"; exit 0',
  );
  tool('systemctl', c.systemctl ?? 'exit 0');
  tool('journalctl', 'echo "kubelet: certificate signing request pending"');
  const kubelet =
    c.kubeletAfter === null ? '' : `(sleep ${c.kubeletAfter}; echo conf > ${etc}/kubelet.conf) &\n`;
  // The 5 s polls shortened, so the test waits fractions of a second, not minutes.
  let join = kubeadmJoin(node(role), '/cfg.yaml', etc)
    .join('\n')
    .replace(/sleep \d+\b/g, 'sleep 0.05');
  if (c.window !== undefined) join = join.replace(`-lt ${JOIN_RETRY_WINDOW_S} ]`, `-lt ${c.window} ]`);
  const script = `${kubelet}${join}\necho JOINED\n`;
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    env: { PATH: `${bin}:/usr/bin:/bin`, ETC: etc },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const calls = existsSync(`${dir}/calls`) ? readFileSync(`${dir}/calls`, 'utf8') : '';
  return { code: r.status, out: `${r.stdout}${r.stderr}`, calls, etc };
}

describe('the rendered kubeadm join', () => {
  it('a join kubeadm finishes goes on, and touches nothing', () => {
    const r = runJoin('worker', { kubeadm: '', code: 0, kubeletAfter: null });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /JOINED/);
    assert.equal(r.calls, 'kubeadm join --config /cfg.yaml\n');
  });

  it('a worker whose kubelet bootstraps after kubeadm stopped waiting is joined: annotated, bootstrap kubeconfig removed', () => {
    const r = runJoin('worker', {
      kubeadm:
        'echo bootstrap > "$ETC/bootstrap-kubelet.conf"; echo "timed out waiting for the condition" >&2',
      code: 1,
      kubeletAfter: 0.5,
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /finished its TLS bootstrap after kubeadm stopped waiting: joined/);
    assert.match(r.out, /JOINED/);
    assert.match(
      r.calls,
      new RegExp(
        `kubectl --kubeconfig ${r.etc}/kubelet.conf annotate --overwrite node w1 kubeadm.alpha.kubernetes.io/cri-socket=${CRI_SOCKET}`,
      ),
    );
    assert.equal(existsSync(`${r.etc}/bootstrap-kubelet.conf`), false);
  });

  it('a worker whose kubeadm stopped before starting the kubelet is tried again and fails with kubeadm’s error, not a journal', () => {
    const r = runJoin('worker', {
      kubeadm: 'echo "error execution phase preflight: unable to fetch the kubeadm-config ConfigMap" >&2',
      code: 1,
      kubeletAfter: null,
    });
    assert.equal(r.code, 1);
    assert.equal(r.calls, 'kubeadm join --config /cfg.yaml\n'.repeat(JOIN_TRIES));
    assert.match(
      r.out,
      new RegExp(`kubeadm join failed ${JOIN_TRIES} time\\(s\\) before it started the kubelet`),
    );
    assert.match(r.out, /unable to fetch the kubeadm-config ConfigMap\n/);
    assert.doesNotMatch(r.out, /certificate signing request pending/);
    assert.doesNotMatch(r.out, /JOINED/);
    assert.doesNotMatch(r.calls, /kubectl|journalctl/);
  });

  it('a worker whose first join stops before the kubelet and whose second succeeds is joined', () => {
    const r = runJoin('worker', {
      kubeadm: '[ -e "$ETC/tried" ] && exit 0; touch "$ETC/tried"; echo "etcdserver: request timed out" >&2',
      code: 1,
      kubeletAfter: null,
    });
    assert.equal(r.code, 0, r.out);
    assert.equal(r.calls, 'kubeadm join --config /cfg.yaml\n'.repeat(2));
    assert.match(r.out, /try 1 of 3/);
    assert.match(r.out, /JOINED/);
  });

  it('no join is tried again once the retry window has passed', () => {
    const r = runJoin('worker', {
      kubeadm: 'echo "[preflight] error" >&2',
      code: 1,
      kubeletAfter: null,
      window: 0,
    });
    assert.equal(r.code, 1);
    assert.equal(r.calls, 'kubeadm join --config /cfg.yaml\n');
    assert.match(r.out, /kubeadm join failed 1 time\(s\) before it started the kubelet/);
  });

  it('a worker whose kubeadm ran out of its 2 min wait for the Node after the TLS bootstrap is joined, not tried again', () => {
    // kubeadm 1.20's kubelet-start phase: CA and bootstrap kubeconfig written, the kubelet
    // bootstrapped (kubelet.conf), the bootstrap kubeconfig removed, then the Node wait runs out.
    const r = runJoin('worker', {
      kubeadm: [
        'mkdir -p "$ETC/pki"; echo ca > "$ETC/pki/ca.crt"; echo conf > "$ETC/kubelet.conf"',
        'echo "error execution phase kubelet-start: error uploading crisocket: timed out waiting for the condition" >&2',
      ].join('; '),
      code: 1,
      kubeletAfter: null,
    });
    assert.equal(r.code, 0, r.out);
    assert.equal(r.calls.match(/kubeadm join/g)?.length, 1, `one join: ${r.calls}`);
    assert.match(r.out, /finished its TLS bootstrap after kubeadm stopped waiting: joined/);
    assert.match(r.calls, /kubectl --kubeconfig .*kubelet.conf annotate --overwrite node w1 /);
    assert.match(r.out, /JOINED/);
  });

  it('a join that wrote the CA before it stopped is not tried again (its preflight would refuse the file): the kubelet it started is waited for, then its journal', () => {
    const r = runJoin('worker', {
      kubeadm: 'mkdir -p "$ETC/pki"; echo ca > "$ETC/pki/ca.crt"; echo "kubelet-start: error" >&2',
      code: 1,
      kubeletAfter: null,
    });
    assert.equal(r.code, 1);
    assert.equal(r.calls.match(/kubeadm join/g)?.length, 1, r.calls);
    assert.match(r.out, /did not finish its TLS bootstrap within 300 s/);
    assert.match(r.out, /certificate signing request pending/);
    assert.doesNotMatch(r.out, /before it started the kubelet/);
  });

  it('a worker whose kubeadm ran out of its 40 s TLS-bootstrap wait and removed the bootstrap kubeconfig is joined once its kubelet finishes', () => {
    // kubeadm 1.20's kubelet-start: the bootstrap kubeconfig and the CA written, the kubelet
    // started, the 40 s wait runs out, the bootstrap kubeconfig removed (deferred); the kubelet
    // goes on with the copy it read and writes kubelet.conf later (CI, 2026-12-04).
    const r = runJoin('worker', {
      kubeadm: [
        'mkdir -p "$ETC/pki"; echo ca > "$ETC/pki/ca.crt"',
        'echo "error execution phase kubelet-start: timed out waiting for the condition" >&2',
      ].join('; '),
      code: 1,
      kubeletAfter: 0.5,
    });
    assert.equal(r.code, 0, r.out);
    assert.equal(r.calls.match(/kubeadm join/g)?.length, 1, `one join: ${r.calls}`);
    assert.match(r.out, /finished its TLS bootstrap after kubeadm stopped waiting: joined/);
    assert.match(r.out, /JOINED/);
  });

  it("a worker whose kubelet lost kubeadm's bootstrap kubeconfig gets it back and a kubelet restart, once, and is joined; nothing of the token is left", () => {
    // kubeadm wrote the bootstrap kubeconfig (with its token), gave up and removed it; a
    // kubelet that started after that has neither kubeconfig: only the restart with the kept
    // copy bootstraps it (the stand-in writes kubelet.conf when restarted with it in place).
    const r = runJoin('worker', {
      kubeadm: [
        'mkdir -p "$ETC/pki"; echo ca > "$ETC/pki/ca.crt"',
        'printf "users:\\n- user:\\n    token: abcdef.0123456789abcdef\\n" > "$ETC/bootstrap-kubelet.conf"',
        'sleep 0.5',
        'rm -f "$ETC/bootstrap-kubelet.conf"',
        'echo "error execution phase kubelet-start: timed out waiting for the condition" >&2',
      ].join('; '),
      code: 1,
      kubeletAfter: null,
      systemctl:
        '[ "$1 $2" = "restart kubelet" ] && grep -q token: "$ETC/bootstrap-kubelet.conf" && echo conf > "$ETC/kubelet.conf"; exit 0',
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.calls, /systemctl restart kubelet/);
    assert.match(r.out, /bootstrap kubeconfig put back and the kubelet restarted/);
    assert.match(r.out, /finished its TLS bootstrap after kubeadm stopped waiting: joined/);
    assert.deepEqual(
      readdirSync(r.etc).filter((f) => f.includes('bootstrap')),
      [],
      'neither the bootstrap kubeconfig nor its kept copy is left',
    );
  });

  it('a worker whose kubelet never bootstraps after the restart fails with its journal and the certificate signing requests the token sees', () => {
    const r = runJoin('worker', {
      kubeadm: [
        'mkdir -p "$ETC/pki"; echo ca > "$ETC/pki/ca.crt"',
        'printf "token: abcdef.0123456789abcdef\\n" > "$ETC/bootstrap-kubelet.conf"',
        'sleep 0.5',
        'rm -f "$ETC/bootstrap-kubelet.conf"',
      ].join('; '),
      code: 1,
      kubeletAfter: null,
    });
    assert.equal(r.code, 1);
    assert.match(r.calls, /systemctl restart kubelet/);
    const tail = r.out.trimEnd().split('\n').slice(-3).join('\n');
    assert.match(tail, /certificate signing requests: csr-x 5m .* Pending;/);
    assert.match(tail, /did not finish its TLS bootstrap within 300 s/);
    assert.match(r.out, /certificate signing request pending/);
    assert.deepEqual(
      readdirSync(r.etc).filter((f) => f.includes('bootstrap')),
      [],
    );
  });

  it('a worker whose kubelet never bootstraps fails after the wait, with the kubelet journal', () => {
    const r = runJoin('worker', {
      kubeadm: 'echo bootstrap > "$ETC/bootstrap-kubelet.conf"',
      code: 1,
      kubeletAfter: null,
    });
    assert.equal(r.code, 1);
    assert.match(r.out, /did not finish its TLS bootstrap within 300 s/);
    assert.match(r.out, /certificate signing request pending/);
    assert.doesNotMatch(r.out, /JOINED/);
  });

  it('a control plane fails as kubeadm failed, with the kubelet journal, even if its kubelet bootstraps later', () => {
    const r = runJoin('control-plane', {
      kubeadm: 'echo bootstrap > "$ETC/bootstrap-kubelet.conf"',
      code: 1,
      kubeletAfter: 0.1,
    });
    assert.equal(r.code, 1);
    assert.match(r.out, /certificate signing request pending/);
    assert.doesNotMatch(r.out, /JOINED/);
  });
});
