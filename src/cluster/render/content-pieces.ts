import type { Template } from './yaml-tokens.ts';
import { fills } from './yaml-tokens.ts';

/**
 * A per-node file's large string checked piece by piece against a shape. A kubeadm node's
 * bootstrap script is the render's shared start, shared lines and runs of lines (the same string
 * objects on every node) and a few lines of its own: as pieces, a node's script is neither
 * joined (~5 KB a node) nor read whole to be compared with its shape. The shape's template is
 * cut at the pieces of the content it was made from: a piece without node strings is compared
 * with that content's piece (the same object: one pointer comparison), a piece with them is
 * `fills`-checked alone. Every piece fitting means the whole fits (the cuts partition the
 * template); a miss is decided by the whole check (`fills` on the content).
 */
export interface PieceShape {
  /** Per piece: the piece itself when it holds no node string, else its part of the template. */
  readonly pieces: readonly (string | Template)[];
}

/**
 * The shape's template `t` (node-string tokens only) cut at `pieces`, the content it was made
 * from with `distinct` its node strings; undefined when a node string spans two pieces.
 */
export function cutAtPieces(
  t: Template,
  distinct: readonly string[],
  pieces: readonly string[],
): PieceShape | undefined {
  if (t.line.some(Boolean)) return undefined;
  // The template as segments in the content's coordinates: literal text, or a token of its length.
  const segs: { text: string; token: number }[] = [];
  for (let i = 0; i < t.parts.length; i++) {
    if (t.parts[i] !== '') segs.push({ text: t.parts[i], token: -1 });
    if (i < t.index.length) {
      const s = distinct[t.index[i]];
      if (s === undefined) return undefined;
      segs.push({ text: s, token: t.index[i] });
    }
  }
  const out: (string | Template)[] = [];
  let seg = 0;
  let at = 0; // offset inside segs[seg]
  for (const piece of pieces) {
    let left = piece.length;
    const parts: string[] = [''];
    const index: number[] = [];
    while (left > 0) {
      const s = segs[seg];
      if (s === undefined) return undefined;
      const take = Math.min(left, s.text.length - at);
      if (s.token >= 0) {
        if (at !== 0 || take !== s.text.length) return undefined;
        index.push(s.token);
        parts.push('');
      } else parts[parts.length - 1] += s.text.slice(at, at + take);
      left -= take;
      at += take;
      if (at === s.text.length) {
        seg++;
        at = 0;
      }
    }
    const cut: Template = { parts, line: index.map(() => false), index };
    // The cut gives this piece back (it does when the template is the content's).
    if (index.length === 0 ? parts[0] !== piece : !fills(cut, distinct, piece)) return undefined;
    out.push(index.length === 0 ? piece : cut);
  }
  return seg === segs.length ? { pieces: out } : undefined;
}

/** Whether `pieces` (a node's content) fit the shape, piece by piece, with the node's `distinct` strings. */
export function fitsPieces(
  shape: PieceShape,
  distinct: readonly string[],
  pieces: readonly string[],
): boolean {
  if (pieces.length !== shape.pieces.length) return false;
  for (let i = 0; i < pieces.length; i++) {
    const p = shape.pieces[i];
    if (typeof p === 'string' ? pieces[i] !== p : !fills(p, distinct, pieces[i])) return false;
  }
  return true;
}
