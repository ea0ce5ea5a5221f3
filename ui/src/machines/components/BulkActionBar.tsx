/**
 * Actions on the selected machines. The bar keeps its height whether or not anything is
 * selected (no layout jump); destructive actions ask once, inline; the result says per
 * machine what happened.
 */
import { useState } from 'react';
import type { Action, ActionParams, Image, Machine } from '../../api/types.ts';
import { type BulkReport, runBulk, summarise } from '../bulk.ts';
import { ACTIONS, BULK_ACTIONS } from '../labels.ts';
import { ImageChoice } from './ImageChoice.tsx';

interface Props {
  selected: Machine[];
  act: (id: string, action: Action, params?: ActionParams) => ReturnType<Parameters<typeof runBulk>[2]>;
  /** The region's images, for Deploy's image choice. */
  listImages: () => Promise<Image[]>;
  onDone?: (r: BulkReport) => void;
  onClear: () => void;
}

export function BulkActionBar({ selected, act, listImages, onDone, onClear }: Props) {
  const [confirming, setConfirming] = useState<Action | null>(null);
  const [choosing, setChoosing] = useState<Action | null>(null);
  const [running, setRunning] = useState<{ action: Action; done: number; of: number } | null>(null);
  const [report, setReport] = useState<BulkReport | null>(null);

  const run = async (action: Action, params?: ActionParams) => {
    setConfirming(null);
    setChoosing(null);
    setReport(null);
    const targets = selected.map((m) => ({ id: m.id, hostname: m.hostname }));
    setRunning({ action, done: 0, of: targets.length });
    const r = await runBulk(targets, action, (id, a) => act(id, a, params), {
      onProgress: (done) => setRunning({ action, done, of: targets.length }),
    });
    setRunning(null);
    setReport(r);
    onDone?.(r);
  };
  const eligible = (a: Action) => selected.filter((m) => m.allowedActions.includes(a)).length;
  const n = selected.length;
  const failed = report?.outcomes.filter((o) => !o.ok) ?? [];

  return (
    <section className="bulkbar" aria-label="Actions on selected machines">
      <div className="bulk-row">
        <span className="bulk-count" aria-live="polite">
          {n === 0 ? 'Select machines to act on them' : `${n.toLocaleString()} selected`}
        </span>
        {choosing ? (
          <ImageChoice
            what={`${n} machine${n === 1 ? '' : 's'}`}
            listImages={listImages}
            onChoose={(image) => run(choosing, { image })}
            onCancel={() => setChoosing(null)}
          />
        ) : confirming ? (
          <fieldset className="confirm">
            <legend className="visually-hidden">Confirm action</legend>
            {ACTIONS[confirming].label} {n} machine{n === 1 ? '' : 's'}? {ACTIONS[confirming].confirm}
            <button type="button" className="danger" onClick={() => run(confirming)}>
              {ACTIONS[confirming].label}
            </button>
            <button type="button" className="ghost" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </fieldset>
        ) : (
          BULK_ACTIONS.map((a) => {
            const ok = eligible(a);
            return (
              <button
                key={a}
                type="button"
                disabled={n === 0 || running !== null}
                onClick={() =>
                  ACTIONS[a].asksImage ? setChoosing(a) : ACTIONS[a].destructive ? setConfirming(a) : run(a)
                }
                title={
                  n
                    ? `${ok} of ${n} selected allow ${ACTIONS[a].label.toLowerCase()} in their state`
                    : undefined
                }
              >
                {ACTIONS[a].label}
                {n > 0 && <span className="count">{ok}</span>}
              </button>
            );
          })
        )}
        {n > 0 && !confirming && !choosing && (
          <button type="button" className="ghost" onClick={onClear}>
            Clear selection
          </button>
        )}
      </div>
      <div className="bulk-result" role="status">
        {running && (
          <span>
            {ACTIONS[running.action].label}: {running.done} of {running.of}…
          </span>
        )}
        {report && (
          <div className={failed.length ? 'result warn' : 'result ok'}>
            <span>{summarise(report)}</span>
            {failed.length > 0 && (
              <details>
                <summary>
                  Show {failed.length} failure{failed.length === 1 ? '' : 's'}
                </summary>
                <ul>
                  {failed.map((o) => (
                    <li key={o.id}>
                      <strong>{o.hostname}</strong>: {o.message}
                    </li>
                  ))}
                </ul>
              </details>
            )}
            <button
              type="button"
              className="ghost small"
              onClick={() => setReport(null)}
              aria-label="Dismiss result"
            >
              ×
            </button>
          </div>
        )}
      </div>
    </section>
  );
}
