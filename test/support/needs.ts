/**
 * The one rule for tests that need this host's peers (root, QEMU, debootstrap, PostgreSQL…):
 * where one is missing the suite is skipped and says what is missing; in CI (`CI` set: .ci/run
 * installs scripts/system-packages.txt and runs as root) a missing peer fails the suite
 * instead, so nothing is skipped there unseen.
 *
 *   describe('…', { skip: skipUnless({ root: true, files: { ovmf: OVMF_CODE } }) }, () => …)
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Needs {
  root?: boolean;
  /** Programs found on PATH. */
  programs?: readonly string[];
  /** Files that must exist, named by the Debian package that brings them. */
  files?: Readonly<Record<string, string>>;
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What of `needs` this host lacks. */
export function missing(needs: Needs): string[] {
  return [
    ...(needs.root && process.getuid?.() !== 0 ? ['root'] : []),
    ...(needs.programs ?? []).filter((p) => !onPath(p)),
    ...Object.entries(needs.files ?? {})
      .filter(([, path]) => !existsSync(path))
      .map(([pkg]) => pkg),
  ];
}

/** A suite's `skip`: the reason when a peer is missing outside CI, else false. */
export function skipUnless(needs: Needs): string | false {
  const lacking = missing(needs);
  return lacking.length > 0 && !process.env.CI ? `needs ${lacking.join(', ')}` : false;
}
