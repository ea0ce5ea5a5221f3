import { useCallback, useMemo } from 'react';
import { Link } from '../app/Link.tsx';
import { useCan, useSession } from '../auth/session.tsx';
import { when } from '../machines/format.ts';
import { PowerBadge, StateBadge } from '../machines/components/StateBadge.tsx';
import { LiveIndicator } from '../ui/LiveIndicator.tsx';
import { readConsole, readHealth, readSensors } from './api.ts';
import { bootView } from './boot-phases.ts';
import { ActionPanel } from './components/ActionPanel.tsx';
import { BootProgress } from './components/BootProgress.tsx';
import { ConsolePanel } from './components/ConsolePanel.tsx';
import { EventTimeline } from './components/EventTimeline.tsx';
import { Inventory } from './components/Inventory.tsx';
import { JobSteps } from './components/JobSteps.tsx';
import { HealthHistoryPanel } from './components/HealthHistoryPanel.tsx';
import { SensorsPanel } from './components/SensorsPanel.tsx';
import { useMachineDetails } from './useMachineDetails.ts';
import './machine.css';

export function MachineDetails({ id }: { id: string }) {
  const { client } = useSession();
  const canAct = useCan('operator');
  const d = useMachineDetails(client, id);
  const boot = useMemo(
    () => (d.machine ? bootView(d.machine, d.events, d.jobs) : null),
    [d.machine, d.events, d.jobs],
  );
  const loadSensors = useCallback((signal: AbortSignal) => readSensors(client, id, signal), [client, id]);
  const loadHealth = useCallback((signal: AbortSignal) => readHealth(client, id, signal), [client, id]);
  const loadConsole = useCallback((signal: AbortSignal) => readConsole(client, id, signal), [client, id]);
  const tests = useMemo(
    () => d.events.filter((e) => e.type.startsWith('test.') || e.type.startsWith('hwtest.')),
    [d.events],
  );

  if (d.notFound) {
    return (
      <div className="page">
        <h1>Machine not found</h1>
        <p>
          No machine has the id <code>{id}</code>; it may have been deleted.{' '}
          <Link href="/machines">Back to machines</Link>
        </p>
      </div>
    );
  }
  const m = d.machine;
  if (!m || !boot) {
    return (
      <div className="page" aria-busy="true">
        <p className="subtle">{d.error ? `Could not load the machine: ${d.error}` : 'Loading…'}</p>
      </div>
    );
  }
  const hwStep = d.jobs.find((j) => j.kind === 'commission')?.steps.find((s) => s.name === 'hardware-tests');

  return (
    <div className="page machine-page">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link href="/machines">Machines</Link> <span aria-hidden="true">›</span> {m.hostname}
      </nav>
      <div className="page-head">
        <h1>{m.hostname}</h1>
        <StateBadge state={m.state} />
        <PowerBadge power={m.powerState} />
        <LiveIndicator status={d.stream} />
      </div>
      <p className="state-reason">
        {m.stateReason || 'No reason recorded'}{' '}
        <span className="subtle">· since {when(m.stateEnteredAt)}</span>
      </p>
      <dl className="facts inline">
        <dt>Zone / rack</dt>
        <dd>
          <Link href={`/racks#zone-${m.zone}`}>{m.zone}</Link> / {m.rack}
        </dd>
        <dt>Pool</dt>
        <dd>{m.pool}</dd>
        <dt>Owner</dt>
        <dd>{m.owner || '—'}</dd>
        <dt>Tags</dt>
        <dd>
          {m.tags.length
            ? m.tags.map((t) => (
                <span key={t} className="tag">
                  {t}
                </span>
              ))
            : '—'}
        </dd>
        <dt>Id</dt>
        <dd className="mono">{m.id}</dd>
      </dl>

      <div className="columns">
        <div className="col-main">
          {canAct && (
            <section className="card" aria-labelledby="actions-h">
              <h2 id="actions-h">Actions</h2>
              <ActionPanel
                machine={m}
                act={client.act}
                listImages={client.listImages}
                kind="lifecycle"
                onActed={d.refresh}
              />
            </section>
          )}
          <section className="card" aria-labelledby="boot-h">
            <h2 id="boot-h">Boot</h2>
            <BootProgress view={boot} />
            {boot.job && (
              <details className="job-steps">
                <summary>Steps of the {boot.job.kind} job</summary>
                <JobSteps job={boot.job} />
              </details>
            )}
          </section>
          <section className="card" aria-labelledby="events-h">
            <h2 id="events-h">Event timeline</h2>
            <EventTimeline events={d.events} />
          </section>
          <section className="card" aria-labelledby="console-h">
            <h2 id="console-h">Serial console</h2>
            <ConsolePanel key={m.id} load={loadConsole} live={m.powerState === 'on'} />
          </section>
        </div>
        <div className="col-side">
          <section className="card" aria-labelledby="bmc-h">
            <h2 id="bmc-h">BMC and power</h2>
            <dl className="facts">
              <dt>Address</dt>
              <dd className="mono">{m.bmc?.address ?? 'none configured'}</dd>
              <dt>User</dt>
              <dd>{m.bmc?.username ?? '—'}</dd>
              <dt>Power</dt>
              <dd>
                <PowerBadge power={m.powerState} />
              </dd>
            </dl>
            {canAct && (
              <ActionPanel
                machine={m}
                act={client.act}
                listImages={client.listImages}
                kind="power"
                onActed={d.refresh}
              />
            )}
          </section>
          <section className="card" aria-labelledby="sensors-h">
            <h2 id="sensors-h">Sensors</h2>
            <SensorsPanel key={m.id} load={loadSensors} />
          </section>
          <section className="card" aria-labelledby="health-h">
            <h2 id="health-h">Health history</h2>
            <HealthHistoryPanel key={m.id} load={loadHealth} />
          </section>
          <section className="card" aria-labelledby="hw-h">
            <h2 id="hw-h">Hardware</h2>
            <Inventory m={m} />
          </section>
          <section className="card" aria-labelledby="tests-h">
            <h2 id="tests-h">Hardware tests</h2>
            {tests.length === 0 && !hwStep ? (
              <p className="empty">No hardware test results yet: commissioning runs them.</p>
            ) : (
              <ul className="plain">
                {hwStep && (
                  <li>
                    hardware-tests step:{' '}
                    {hwStep.error ? (
                      <span className="text-error">failed: {hwStep.error}</span>
                    ) : hwStep.endedAt ? (
                      'passed'
                    ) : hwStep.startedAt ? (
                      'running'
                    ) : (
                      'not run'
                    )}
                  </li>
                )}
                {tests.map((e) => (
                  <li key={e.id} className={`level-${e.level}`}>
                    {e.message}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      </div>
    </div>
  );
}
