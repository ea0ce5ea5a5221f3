/**
 * A bundle's problems are collected and refused together, each naming the file or manifest
 * field it is about, so one round trip shows everything wrong with a bundle.
 */
import { ErrorCode, IngotError } from '../core/errors.ts';

export interface BundleProblem {
  /** The file (relative to the bundle) or manifest field, e.g. `kubernetes/server/bin/kubelet`. */
  readonly file: string;
  readonly message: string;
}

export class Problems {
  readonly list: BundleProblem[] = [];

  add(file: string, message: string): void {
    if (!this.list.some((p) => p.file === file && p.message === message)) this.list.push({ file, message });
  }

  /** Throws one validation error listing every problem (the first one's file is `details.field`). */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const lines = this.list.map((p) => `${p.file}: ${p.message}`);
    throw new IngotError(
      ErrorCode.Validation,
      lines.length === 1
        ? `the bundle is refused: ${lines[0]}`
        : `the bundle is refused, ${lines.length} problems:\n  ${lines.join('\n  ')}`,
      { details: { field: this.list[0].file, problems: this.list } },
    );
  }
}
