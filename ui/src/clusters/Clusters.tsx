/**
 * Clusters: the region's clusters as they live (ClusterList.tsx), and a planner: plan a Cluster
 * file onto this region's ready machines and read the plan by failure domain, with what
 * survives the loss of each zone and rack. Planning writes nothing, so a viewer may plan too;
 * an operator then creates the cluster as planned.
 */
import { type ChangeEvent, type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { useCan, useSession } from '../auth/session.tsx';
import { createCluster, type PlanResult, planCluster, type Refusal, refusalOf } from './api.ts';
import { ClusterList } from './ClusterList.tsx';
import { NodesByDomain, PlanSummary, WhatIfTable } from './PlanView.tsx';
import { Problems } from './Problems.tsx';
import { SAMPLE_CLUSTER } from './sample.ts';
import './clusters.css';

/** The file being edited survives navigating away and back (this tab only). */
const DRAFT_KEY = 'ingot.cluster-file';
const MAX_BYTES = 1024 * 1024;

function loadDraft(): string {
  try {
    return sessionStorage.getItem(DRAFT_KEY) ?? SAMPLE_CLUSTER;
  } catch {
    return SAMPLE_CLUSTER;
  }
}
function saveDraft(text: string): void {
  try {
    if (text === SAMPLE_CLUSTER) sessionStorage.removeItem(DRAFT_KEY);
    else sessionStorage.setItem(DRAFT_KEY, text);
  } catch {
    // storage full or disabled: the draft just does not survive a reload
  }
}

type Outcome =
  | { kind: 'none' }
  | { kind: 'planned'; result: PlanResult; text: string }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'failed'; message: string };

export function Clusters() {
  const { client } = useSession();
  const [text, setText] = useState(loadDraft);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'none' });
  const [fileNote, setFileNote] = useState<string | null>(null);
  const canCreate = useCan('operator');
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ ok: boolean; text: string } | null>(null);
  const [refresh, setRefresh] = useState(0);
  const inflight = useRef<AbortController | null>(null);
  useEffect(() => () => inflight.current?.abort(), []);
  useEffect(() => saveDraft(text), [text]);

  const plan = async () => {
    if (!text.trim()) {
      setOutcome({
        kind: 'refused',
        refusal: { stage: 'request', message: 'Paste or open a Cluster file first.', problems: [] },
      });
      return;
    }
    inflight.current?.abort();
    const ac = new AbortController();
    inflight.current = ac;
    setBusy(true);
    try {
      const result = await planCluster(client, text, ac.signal);
      setOutcome({ kind: 'planned', result, text });
    } catch (e) {
      if ((e as Error).name === 'AbortError') return;
      const refusal = refusalOf(e);
      setOutcome(
        refusal
          ? { kind: 'refused', refusal }
          : { kind: 'failed', message: (e as Error).message ?? String(e) },
      );
    } finally {
      if (inflight.current === ac) {
        inflight.current = null;
        setBusy(false);
      }
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void plan();
  };
  // Ctrl+Enter (⌘+Enter) plans from inside the editor; Enter alone stays a newline.
  const keyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void plan();
    }
  };
  const openFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    if (file.size > MAX_BYTES) {
      setFileNote(`${file.name} is larger than 1 MiB; a Cluster file is a few kilobytes.`);
      return;
    }
    setText(await file.text());
    setFileNote(`Loaded ${file.name}.`);
  };

  /** Creates the cluster of the file as planned: the region allocates, deploys and bootstraps it. */
  const create = async (file: string) => {
    setCreating(true);
    setCreated(null);
    try {
      const r = await createCluster(client, file);
      setCreated({
        ok: true,
        text: `Creating cluster ${r.cluster.name}: ${r.cluster.stateReason} Its nodes' steps show above.`,
      });
      setRefresh((n) => n + 1);
    } catch (e) {
      const refusal = refusalOf(e);
      const detail = refusal?.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
      setCreated({
        ok: false,
        text: `Not created: ${refusal ? `${refusal.message}${detail ? ` (${detail})` : ''}` : ((e as Error).message ?? String(e))}`,
      });
    } finally {
      setCreating(false);
    }
  };

  const planned = outcome.kind === 'planned' ? outcome : null;
  const stale = planned !== null && planned.text !== text;

  return (
    <div className="page clusters-page">
      <div className="page-head">
        <h1>Clusters</h1>
        <p className="subtle">
          The region’s clusters, and a planner: plan a Cluster file onto this region’s ready machines.
          Planning changes nothing.
        </p>
      </div>
      <ClusterList refresh={refresh} />
      <form className="card cluster-form" onSubmit={submit} aria-busy={busy}>
        <div className="cluster-form-head">
          <label htmlFor="cluster-file">Cluster file (YAML)</label>
          <span className="cluster-form-tools">
            <label className="file-pick">
              <span>Open a file…</span>
              <input type="file" accept=".yaml,.yml,.json,application/yaml,text/yaml" onChange={openFile} />
            </label>
            <button
              type="button"
              className="small"
              onClick={() => {
                setText(SAMPLE_CLUSTER);
                setFileNote('Restored the sample.');
              }}
              disabled={text === SAMPLE_CLUSTER}
            >
              Reset to sample
            </button>
          </span>
        </div>
        <textarea
          id="cluster-file"
          className="cluster-text mono"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={keyDown}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          rows={18}
          aria-describedby="cluster-file-help"
        />
        <div className="cluster-form-foot">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Planning…' : 'Plan'}
          </button>
          <span id="cluster-file-help" className="subtle">
            Ctrl+Enter plans from the editor. Fields and defaults: docs/cluster.md.
          </span>
          <span className="subtle" role="status">
            {fileNote}
          </span>
        </div>
      </form>

      <div role="status" className="visually-hidden">
        {busy
          ? 'Planning…'
          : planned
            ? `Planned ${planned.result.plan.nodes.length} nodes for cluster ${planned.result.plan.cluster}.`
            : ''}
      </div>
      {outcome.kind === 'refused' && <Problems refusal={outcome.refusal} />}
      {outcome.kind === 'failed' && (
        <p className="error" role="alert">
          Could not plan: {outcome.message}
        </p>
      )}
      {planned && (
        <div className="plan-result">
          {stale && (
            <p className="notice">The file changed since this plan was made. Plan again to update it.</p>
          )}
          <PlanSummary plan={planned.result.plan} />
          {canCreate && (
            <div className="card cluster-create">
              <button
                type="button"
                className="primary"
                disabled={creating || stale}
                title={stale ? 'The file changed since this plan: plan it again first' : undefined}
                onClick={() => create(planned.text)}
              >
                {creating ? 'Creating…' : `Create cluster ${planned.result.plan.cluster}`}
              </button>
              <span className="subtle">
                Allocates these machines, deploys them with the node image and bootstraps Kubernetes.
              </span>
              {created && (
                <p className={created.ok ? 'result ok' : 'result warn'} role="status">
                  {created.text}
                </p>
              )}
            </div>
          )}
          <NodesByDomain plan={planned.result.plan} />
          <WhatIfTable plan={planned.result.plan} />
          <details className="card plan-text">
            <summary>The plan as text (as `ingot cluster plan` prints it)</summary>
            <pre className="mono">{planned.result.text}</pre>
          </details>
        </div>
      )}
    </div>
  );
}
