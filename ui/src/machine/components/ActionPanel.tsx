import { useState } from 'react';
import { ApiError } from '../../api/client.ts';
import type { Action, ActionParams, ActionResult, Image, Machine } from '../../api/types.ts';
import { ImageChoice } from '../../machines/components/ImageChoice.tsx';
import { ACTIONS } from '../../machines/labels.ts';

const POWER_ACTIONS: readonly Action[] = ['power-on', 'power-off', 'power-cycle'];

interface Props {
  machine: Machine;
  act: (id: string, action: Action, params?: ActionParams) => Promise<ActionResult>;
  /** The region's images, for Deploy's image choice. */
  listImages: () => Promise<Image[]>;
  /** Which actions this panel offers: lifecycle or power ones. */
  kind: 'lifecycle' | 'power';
  onActed?: (r: ActionResult) => void;
}

/** The actions the machine's state allows, as buttons; destructive ones ask once, inline. */
export function ActionPanel({ machine, act, listImages, kind, onActed }: Props) {
  const [confirming, setConfirming] = useState<Action | null>(null);
  const [choosing, setChoosing] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const actions = machine.allowedActions.filter((a) => POWER_ACTIONS.includes(a) === (kind === 'power'));

  const run = async (a: Action, params?: ActionParams) => {
    setConfirming(null);
    setChoosing(null);
    setBusy(true);
    setResult(null);
    try {
      const r = await act(machine.id, a, params);
      setResult({
        ok: true,
        text: `${ACTIONS[a].label}: accepted${r.job ? `, job ${r.job.id} ${r.job.status}` : ''}`,
      });
      onActed?.(r);
    } catch (e) {
      setResult({
        ok: false,
        text: `${ACTIONS[a].label} failed: ${e instanceof ApiError || e instanceof Error ? e.message : String(e)}`,
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="action-panel">
      {actions.length === 0 && (
        <p className="subtle">
          No {kind} actions in state {machine.state}.
        </p>
      )}
      {choosing ? (
        <ImageChoice
          what={machine.hostname}
          listImages={listImages}
          onChoose={(image) => run(choosing, { image })}
          onCancel={() => setChoosing(null)}
        />
      ) : confirming ? (
        <fieldset className="confirm">
          <legend className="visually-hidden">Confirm action</legend>
          {ACTIONS[confirming].label} {machine.hostname}? {ACTIONS[confirming].confirm}
          <button type="button" className="danger" onClick={() => run(confirming)}>
            {ACTIONS[confirming].label}
          </button>
          <button type="button" className="ghost" onClick={() => setConfirming(null)}>
            Cancel
          </button>
        </fieldset>
      ) : (
        <div className="buttons">
          {actions.map((a) => (
            <button
              key={a}
              type="button"
              disabled={busy}
              className={ACTIONS[a].destructive ? 'danger-outline' : undefined}
              onClick={() =>
                ACTIONS[a].asksImage ? setChoosing(a) : ACTIONS[a].destructive ? setConfirming(a) : run(a)
              }
            >
              {ACTIONS[a].label}
            </button>
          ))}
        </div>
      )}
      <p className={`action-result ${result ? (result.ok ? 'text-ok' : 'text-error') : ''}`} role="status">
        {result?.text}
      </p>
    </div>
  );
}
