import { useCallback, useMemo, useState } from 'react';
import { navigate, useLocation } from '../../app/router.ts';
import { LiveIndicator } from '../../ui/LiveIndicator.tsx';
import { useCan, useSession } from '../../auth/session.tsx';
import { BulkActionBar } from '../components/BulkActionBar.tsx';
import { FilterBar } from '../components/FilterBar.tsx';
import { MachineTable } from '../components/MachineTable.tsx';
import { type Filters, fromSearch, toSearch } from '../filters.ts';
import { formatSort, parseSort, type SortKey, sortMachines } from '../sort.ts';
import { useMachineList } from '../useMachineList.ts';

const uniq = (xs: Iterable<string>) => [...new Set(xs)].sort();

export function MachineList() {
  const { client } = useSession();
  const canAct = useCan('operator');
  const { search } = useLocation();
  const filters = useMemo(() => fromSearch(search), [search]);
  const sort = parseSort(search.get('sort'));
  const list = useMachineList(client, filters);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());

  const setUrl = useCallback((f: Filters, sortParam: string, o: { replace?: boolean } = {}) => {
    const qs = toSearch(f);
    const withSort = sortParam ? `${qs ? `${qs}&` : '?'}sort=${sortParam}` : qs;
    navigate(`/machines${withSort}`, o);
  }, []);
  const sortParam = formatSort(sort);
  const onFilters = useCallback(
    (f: Filters, o?: { replace?: boolean }) => setUrl(f, sortParam, o),
    [setUrl, sortParam],
  );
  const onSort = (key: SortKey) =>
    setUrl(
      filters,
      formatSort(sort?.key === key ? (sort.desc ? null : { key, desc: true }) : { key, desc: false }),
      { replace: true },
    );

  const rows = useMemo(() => sortMachines(list.machines, sort), [list.machines, sort]);
  const known = useMemo(
    () => ({
      zones: uniq(list.machines.map((m) => m.zone)),
      racks: uniq(list.machines.map((m) => m.rack)),
      pools: uniq(list.machines.map((m) => m.pool)),
      tags: uniq(list.machines.flatMap((m) => m.tags)),
    }),
    [list.machines],
  );
  const selectedMachines = useMemo(
    () => list.machines.filter((m) => selected.has(m.id)),
    [list.machines, selected],
  );

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const toggleAll = () =>
    setSelected((s) =>
      list.machines.length > 0 && list.machines.every((m) => s.has(m.id))
        ? new Set()
        : new Set(list.machines.map((m) => m.id)),
    );

  const total = list.total ?? list.machines.length;
  return (
    <div className="page machines-page">
      <div className="page-head">
        <h1>Machines</h1>
        <p className="subtle" aria-live="polite">
          {list.total === null ? 'Loading…' : `${total.toLocaleString()} machine${total === 1 ? '' : 's'}`}
          {list.loading && list.total !== null && ` · loaded ${list.machines.length.toLocaleString()}`}
        </p>
        <LiveIndicator status={list.stream} />
      </div>
      <FilterBar filters={filters} onChange={onFilters} known={known} />
      {canAct && (
        <BulkActionBar
          selected={selectedMachines}
          act={client.act}
          listImages={client.listImages}
          onClear={() => setSelected(new Set())}
        />
      )}
      {list.error && (
        <p className="error" role="alert">
          Could not load machines: {list.error}
        </p>
      )}
      <MachineTable
        machines={rows}
        total={total}
        selectable={canAct}
        selected={selected}
        onToggle={toggle}
        onToggleAll={toggleAll}
        sort={sort}
        onSort={onSort}
      />
    </div>
  );
}
