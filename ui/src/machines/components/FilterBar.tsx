import { useEffect, useId, useState } from 'react';
import type { MachineState } from '../../api/types.ts';
import { EMPTY, type Filters, isEmpty } from '../filters.ts';
import { STATE_ORDER, STATES } from '../labels.ts';

interface Props {
  filters: Filters;
  onChange: (f: Filters, o?: { replace?: boolean }) => void;
  /** Known zones, racks, pools and tags, for suggestions. */
  known: { zones: string[]; racks: string[]; pools: string[]; tags: string[] };
}

export function FilterBar({ filters, onChange, known }: Props) {
  const id = useId();
  const [q, setQ] = useState(filters.q);
  // Follow the URL (Back button) without clobbering what is being typed.
  useEffect(() => setQ(filters.q), [filters.q]);
  useEffect(() => {
    if (q === filters.q) return;
    const t = setTimeout(() => onChange({ ...filters, q }, { replace: true }), 250);
    return () => clearTimeout(t);
  }, [q, filters, onChange]);

  const toggleState = (s: MachineState) =>
    onChange({
      ...filters,
      state: filters.state.includes(s) ? filters.state.filter((x) => x !== s) : [...filters.state, s],
    });
  const stateSummary =
    filters.state.length === 0 ? 'Any state' : filters.state.map((s) => STATES[s].label).join(', ');

  return (
    <search className="filterbar" aria-label="Filter machines">
      <div className="field grow">
        <label htmlFor={`${id}-q`}>Search</label>
        <input
          id={`${id}-q`}
          type="search"
          placeholder="Hostname, MAC or id"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </div>
      <div className="field">
        <span className="label" id={`${id}-state`}>
          State
        </span>
        <details className="dropdown">
          <summary aria-describedby={`${id}-state`}>{stateSummary}</summary>
          <fieldset>
            <legend className="visually-hidden">Machine states</legend>
            {STATE_ORDER.map((s) => (
              <label key={s} className="check">
                <input type="checkbox" checked={filters.state.includes(s)} onChange={() => toggleState(s)} />
                <span className={`dot tone-${STATES[s].tone}`} aria-hidden="true" /> {STATES[s].label}
              </label>
            ))}
          </fieldset>
        </details>
      </div>
      {(['zone', 'rack', 'pool'] as const).map((k) => (
        <div className="field" key={k}>
          <label htmlFor={`${id}-${k}`}>{k[0].toUpperCase() + k.slice(1)}</label>
          <input
            id={`${id}-${k}`}
            list={`${id}-${k}-list`}
            value={filters[k]}
            placeholder="Any"
            size={10}
            onChange={(e) => onChange({ ...filters, [k]: e.target.value.trim() }, { replace: true })}
          />
          <datalist id={`${id}-${k}-list`}>
            {known[`${k}s`].map((v) => (
              <option key={v} value={v} />
            ))}
          </datalist>
        </div>
      ))}
      <div className="field">
        <label htmlFor={`${id}-tag`}>Tags</label>
        <input
          id={`${id}-tag`}
          list={`${id}-tag-list`}
          value={filters.tag.join(',')}
          placeholder="Any"
          size={12}
          onChange={(e) =>
            onChange(
              {
                ...filters,
                tag: e.target.value
                  .split(',')
                  .map((t) => t.trim())
                  .filter(Boolean),
              },
              { replace: true },
            )
          }
        />
        <datalist id={`${id}-tag-list`}>
          {known.tags.map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
      </div>
      <button type="button" className="ghost" disabled={isEmpty(filters)} onClick={() => onChange(EMPTY)}>
        Clear filters
      </button>
    </search>
  );
}
