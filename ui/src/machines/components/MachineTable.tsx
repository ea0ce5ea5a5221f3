// An ARIA grid of divs on purpose: virtualised rows are absolutely positioned, which <table>
// layout cannot do. Rows are the focus stops (roving tabindex), so cells are not focusable.
// biome-ignore-all lint/a11y/useSemanticElements: see above
// biome-ignore-all lint/a11y/useFocusableInteractive: see above
/**
 * The machines grid: virtualised (only the rows in view exist in the DOM, so 10,000 machines
 * scroll like 50), fixed row height (nothing jumps while data streams in) and keyboard-driven
 * like a spreadsheet: one tab stop, arrows/PageUp/PageDown/Home/End move, Enter opens,
 * Space selects.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import type { Machine } from '../../api/types.ts';
import { Link } from '../../app/Link.tsx';
import { navigate } from '../../app/router.ts';
import { bytes, cpuSummary, diskSummary } from '../format.ts';
import type { SortKey, SortSpec } from '../sort.ts';
import { PowerBadge, StateBadge } from './StateBadge.tsx';

export const ROW_HEIGHT = 36;

interface Props {
  machines: Machine[];
  /** Rows the server has; rows past `machines.length` show as loading. */
  total: number;
  selectable: boolean;
  selected: ReadonlySet<string>;
  onToggle: (id: string) => void;
  onToggleAll: () => void;
  sort: SortSpec | null;
  onSort: (key: SortKey) => void;
  /** Visible rows before scrolling; tests pass a size since jsdom has no layout. */
  initialHeight?: number;
}

const COLUMNS: { key: SortKey | null; label: string }[] = [
  { key: 'hostname', label: 'Hostname' },
  { key: 'state', label: 'State' },
  { key: 'power', label: 'Power' },
  { key: 'location', label: 'Zone / rack' },
  { key: 'pool', label: 'Pool' },
  { key: null, label: 'Tags' },
  { key: 'cpu', label: 'CPU' },
  { key: 'memory', label: 'Memory' },
  { key: 'disk', label: 'Disks' },
];

export function MachineTable(p: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const focusPending = useRef(false);
  const count = Math.max(p.total, p.machines.length);
  const v = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    initialRect: { width: 1200, height: p.initialHeight ?? 600 },
    getItemKey: (i) => p.machines[i]?.id ?? `loading-${i}`,
  });

  useEffect(() => {
    if (!focusPending.current) return;
    const row = scrollRef.current?.querySelector<HTMLElement>(`[data-index="${active}"]`);
    if (row) {
      // A row still loading is keyed apart from its machine: when the page arrives React mounts
      // a new element and the focus would fall to the body. Focus it again then.
      focusPending.current = p.machines[active] === undefined;
      row.focus({ preventScroll: true });
    }
  });

  const moveTo = (i: number) => {
    const next = Math.max(0, Math.min(count - 1, i));
    setActive(next);
    focusPending.current = true;
    v.scrollToIndex(next, { align: 'auto' });
  };
  const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 600) / ROW_HEIGHT) - 1);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>, i: number, m: Machine | undefined) => {
    const target: Record<string, number> = {
      ArrowDown: i + 1,
      ArrowUp: i - 1,
      PageDown: i + page,
      PageUp: i - page,
      Home: 0,
      End: count - 1,
    };
    if (e.key in target) moveTo(target[e.key]);
    else if (e.key === 'Enter' && m) navigate(`/machines/${m.id}`);
    else if (e.key === ' ' && m && p.selectable) p.onToggle(m.id);
    else return;
    e.preventDefault();
  };

  const allSelected = p.machines.length > 0 && p.machines.every((m) => p.selected.has(m.id));
  const someSelected = !allSelected && p.selected.size > 0;

  return (
    <div
      className={`machine-grid${p.selectable ? ' selectable' : ''}`}
      role="grid"
      aria-label="Machines"
      aria-rowcount={count + 1}
      aria-colcount={COLUMNS.length + (p.selectable ? 1 : 0)}
      aria-multiselectable={p.selectable || undefined}
    >
      <div className="grid-head" role="rowgroup">
        <div className="grid-row head" role="row" aria-rowindex={1}>
          {p.selectable && (
            <div role="columnheader" className="cell check">
              <input
                type="checkbox"
                aria-label={allSelected ? 'Deselect all machines' : 'Select all machines'}
                checked={allSelected}
                ref={(el) => {
                  if (el) el.indeterminate = someSelected;
                }}
                onChange={p.onToggleAll}
              />
            </div>
          )}
          {COLUMNS.map((c) => {
            const sorted = c.key && p.sort?.key === c.key ? p.sort : null;
            return (
              <div
                key={c.label}
                role="columnheader"
                className="cell"
                aria-sort={sorted ? (sorted.desc ? 'descending' : 'ascending') : undefined}
              >
                {c.key ? (
                  <button type="button" className="sort" onClick={() => c.key && p.onSort(c.key)}>
                    {c.label}
                    <span aria-hidden="true" className="sort-arrow">
                      {sorted ? (sorted.desc ? '▼' : '▲') : ''}
                    </span>
                  </button>
                ) : (
                  c.label
                )}
              </div>
            );
          })}
        </div>
      </div>
      <div className="grid-body" ref={scrollRef} role="rowgroup">
        <div style={{ height: v.getTotalSize(), position: 'relative' }}>
          {v.getVirtualItems().map((item) => {
            const m = p.machines[item.index];
            const style = { transform: `translateY(${item.start}px)`, height: ROW_HEIGHT };
            const common = {
              'data-index': item.index,
              'aria-rowindex': item.index + 2,
              tabIndex: item.index === active ? 0 : -1,
              style,
              onFocus: () => setActive(item.index),
              onKeyDown: (e: KeyboardEvent<HTMLDivElement>) => onKeyDown(e, item.index, m),
            } as const;
            if (!m) {
              return (
                <div key={item.key} role="row" className="grid-row loading" {...common} aria-busy="true">
                  <div role="gridcell" className="cell">
                    Loading…
                  </div>
                </div>
              );
            }
            const sel = p.selected.has(m.id);
            return (
              <div
                key={item.key}
                role="row"
                className={`grid-row${sel ? ' selected' : ''}`}
                aria-selected={p.selectable ? sel : undefined}
                aria-label={m.hostname}
                onDoubleClick={() => navigate(`/machines/${m.id}`)}
                {...common}
              >
                {p.selectable && (
                  <div role="gridcell" className="cell check">
                    <input
                      type="checkbox"
                      tabIndex={-1}
                      aria-label={`Select ${m.hostname}`}
                      checked={sel}
                      onChange={() => p.onToggle(m.id)}
                    />
                  </div>
                )}
                <div role="gridcell" className="cell host">
                  <Link href={`/machines/${m.id}`} tabIndex={-1}>
                    {m.hostname}
                  </Link>
                </div>
                <div role="gridcell" className="cell">
                  <StateBadge state={m.state} title={m.stateReason} />
                </div>
                <div role="gridcell" className="cell">
                  <PowerBadge power={m.powerState} />
                </div>
                <div role="gridcell" className="cell mono-ish">
                  {m.zone} / {m.rack}
                </div>
                <div role="gridcell" className="cell">
                  {m.pool}
                </div>
                <div role="gridcell" className="cell tags" title={m.tags.join(', ')}>
                  {m.tags.map((t) => (
                    <span key={t} className="tag">
                      {t}
                    </span>
                  ))}
                </div>
                <div
                  role="gridcell"
                  className="cell num"
                  title={
                    m.cpu ? `${m.cpu.model ?? ''} ${m.cpu.threads ?? m.cpu.cores} threads`.trim() : undefined
                  }
                >
                  {cpuSummary(m)}
                </div>
                <div role="gridcell" className="cell num">
                  {bytes(m.memoryBytes)}
                </div>
                <div role="gridcell" className="cell num">
                  {diskSummary(m)}
                </div>
              </div>
            );
          })}
        </div>
        {count === 0 && <p className="empty">No machines match these filters.</p>}
      </div>
    </div>
  );
}
