/**
 * Debian packages for the build through a private apt configuration: its own sources file,
 * lists and cache under `<cache>/apt`, so other suites (bullseye's Go) are reached without
 * touching the system's sources. Packages are downloaded and extracted (`dpkg-deb -x`), never
 * installed.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Step } from './step.ts';

const MIRROR = 'http://deb.debian.org/debian';
const SECURITY = 'http://deb.debian.org/debian-security';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export class PrivateApt {
  readonly dir: string;
  readonly #step: Step;
  constructor(dir: string, step: Step) {
    this.dir = dir;
    this.#step = step;
  }

  /** apt's options pointing every state and configuration path at the private dir. */
  options(): string[] {
    return [
      '-o',
      `Dir::Etc::sourcelist=${join(this.dir, 'sources.list')}`,
      '-o',
      'Dir::Etc::sourceparts=-',
      '-o',
      `Dir::State::Lists=${join(this.dir, 'lists')}`,
      '-o',
      `Dir::Cache=${join(this.dir, 'cache')}`,
      '-o',
      'APT::Sandbox::User=root',
      '-o',
      'Acquire::Retries=3',
    ];
  }

  /** Writes the sources (binary amd64 and source entries for each suite) and updates the lists. */
  async update(suites: readonly string[]): Promise<void> {
    mkdirSync(join(this.dir, 'lists', 'partial'), { recursive: true });
    mkdirSync(join(this.dir, 'cache', 'archives', 'partial'), { recursive: true });
    const lines: string[] = [];
    for (const s of [...new Set(suites)]) {
      for (const type of ['deb [arch=amd64', 'deb-src [']) {
        lines.push(`${type} signed-by=${KEYRING}] ${MIRROR} ${s} main`);
        if (s !== 'bullseye') lines.push(`${type} signed-by=${KEYRING}] ${SECURITY} ${s}-security main`);
      }
    }
    writeFileSync(join(this.dir, 'sources.list'), `${lines.join('\n')}\n`);
    await this.#step.run('apt-get', [...this.options(), '-q', 'update']);
  }

  /** `apt-get source --download-only PKG=VERSION` into `into`; returns the `.orig.tar.*` path. */
  async source(pkg: string, version: string, into: string): Promise<string> {
    mkdirSync(into, { recursive: true });
    await this.#step.run(
      'apt-get',
      [...this.options(), '-q', 'source', '--download-only', `${pkg}=${version}`],
      {
        cwd: into,
      },
    );
    const orig = readdirSync(into).find((f) => f.startsWith(`${pkg}_`) && /\.orig\.tar\.[a-z]+$/.test(f));
    if (!orig) throw new Error(`apt-get source ${pkg}=${version} left no .orig tarball in ${into}`);
    return join(into, orig);
  }

  /** The candidate version of each package in the private lists. */
  async candidates(pkgs: readonly string[]): Promise<Record<string, string>> {
    const out = await this.#step.capture('apt-cache', [...this.options(), 'policy', ...pkgs]);
    const found: Record<string, string> = {};
    let current = '';
    for (const line of out.split('\n')) {
      const head = /^(\S+):$/.exec(line);
      if (head) current = head[1];
      const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
      if (cand && current) found[current] = cand[1];
    }
    for (const p of pkgs)
      if (!found[p] || found[p] === '(none)')
        throw new Error(`apt: no candidate for ${p} in the private lists`);
    return found;
  }

  /** `apt-get download` of `pkg=version` each into `into` and `dpkg-deb -x` into `root`. */
  async extract(pkgs: Record<string, string>, into: string, root: string): Promise<void> {
    mkdirSync(into, { recursive: true });
    mkdirSync(root, { recursive: true });
    const specs = Object.entries(pkgs).map(([p, v]) => `${p}=${v}`);
    await this.#step.run('apt-get', [...this.options(), '-q', 'download', ...specs], { cwd: into });
    for (const [p, v] of Object.entries(pkgs)) {
      // apt-get download writes an epoch's colon as %3a.
      const names = [`${p}_${v.replace(':', '%3a')}_`, `${p}_${v.replace(/^\d+:/, '')}_`];
      const deb = readdirSync(into).find((f) => names.some((n) => f.startsWith(n)) && f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${p}=${v} left no .deb in ${into}`);
      await this.#step.run('dpkg-deb', ['-x', join(into, deb), root]);
    }
  }
}
