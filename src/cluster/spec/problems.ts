import { ErrorCode, IngotError } from '../../core/errors.ts';

/** One thing wrong with user input, at a dotted path (`spec.workers[0].count`). */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/**
 * Throws one IngotError carrying every problem, so a user fixes them all in one pass.
 * `details.problems` keeps them structured for the API; the message lists them one per line.
 */
export function throwProblems(
  what: string,
  problems: readonly Problem[],
  code: ErrorCode = ErrorCode.Validation,
): void {
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
  const noun = problems.length === 1 ? 'problem' : 'problems';
  throw new IngotError(code, `${what} has ${problems.length} ${noun}:\n${lines.join('\n')}`, {
    details: { field: problems[0].path, problems },
  });
}

/** `/spec/workers/0/count` → `spec.workers[0].count`. */
export function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}
