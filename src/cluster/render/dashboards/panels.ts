/**
 * Building blocks of Ingot's Grafana dashboards. Every dashboard is typed as `@grafana/schema`'s
 * `Dashboard` (the schema Grafana publishes for its dashboard JSON, Apache-2.0), so `tsc` checks
 * each field and panel against it; `dashboards.test.ts` checks what a type cannot (PromQL that
 * parses, metrics that exist, datasources that resolve, panels that do not overlap).
 */
import type { Dashboard, DataSourceRef, Panel } from '@grafana/schema';

/** The datasources the rendered Grafana provisions (observability.ts), by uid. */
export const DATASOURCE = {
  prometheus: { type: 'prometheus', uid: 'prometheus' },
  loki: { type: 'loki', uid: 'loki' },
} as const satisfies Record<string, DataSourceRef>;

/** One query of a panel: PromQL (or LogQL for a logs panel) and its legend. */
export interface Query {
  readonly expr: string;
  readonly legend?: string;
}

export interface PanelOpts {
  readonly title: string;
  readonly queries: readonly Query[];
  /** Grafana unit id: `celsius`, `watt`, `percentunit`, `s`, `bytes`, `short`, `ops`. */
  readonly unit?: string;
  readonly description?: string;
  /** Width in grid columns (of 24); height 8. */
  readonly w?: number;
}

type Kind = 'timeseries' | 'stat' | 'table' | 'logs';

function panel(type: Kind, o: PanelOpts): Panel {
  const ds = type === 'logs' ? DATASOURCE.loki : DATASOURCE.prometheus;
  return {
    type,
    title: o.title,
    ...(o.description ? { description: o.description } : {}),
    datasource: ds,
    targets: o.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: ds,
      expr: q.expr,
      ...(q.legend ? { legendFormat: q.legend } : {}),
      ...(type === 'table' ? { format: 'table', instant: true } : {}),
    })),
    fieldConfig: { defaults: o.unit ? { unit: o.unit } : {}, overrides: [] },
    options: {},
    // Placed by `dashboard()`.
    gridPos: { x: 0, y: 0, w: o.w ?? 12, h: 8 },
  };
}

export const timeseries = (o: PanelOpts): Panel => panel('timeseries', o);
export const stat = (o: PanelOpts): Panel => panel('stat', { w: 6, ...o });
export const table = (o: PanelOpts): Panel => panel('table', { w: 24, ...o });
export const logs = (o: PanelOpts): Panel => panel('logs', { w: 24, ...o });

/** A template variable over one label of a metric (`label_values`), multi-select with All. */
export interface LabelVariable {
  readonly name: string;
  readonly metric: string;
}

export interface DashboardOpts {
  /** Stable uid (Grafana links and the ConfigMap key use it). */
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly variables?: readonly LabelVariable[];
  readonly panels: readonly Panel[];
}

/** A dashboard with its panels laid left to right, top to bottom, ids 1…n. */
export function dashboard(o: DashboardOpts): Dashboard {
  let x = 0;
  let y = 0;
  let rowH = 0;
  const panels = o.panels.map((p, i) => {
    const w = p.gridPos?.w ?? 12;
    const h = p.gridPos?.h ?? 8;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const placed: Panel = { ...p, id: i + 1, gridPos: { x, y, w, h } };
    x += w;
    rowH = Math.max(rowH, h);
    return placed;
  });
  return {
    uid: o.uid,
    title: o.title,
    description: o.description,
    tags: ['ingot'],
    editable: false,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-24h', to: 'now' },
    refresh: '1m',
    timezone: 'browser',
    templating: {
      list: (o.variables ?? []).map((v) => ({
        name: v.name,
        label: v.name,
        type: 'query',
        datasource: DATASOURCE.prometheus,
        query: `label_values(${v.metric}, ${v.name})`,
        definition: `label_values(${v.metric}, ${v.name})`,
        refresh: 2,
        multi: true,
        includeAll: true,
        allValue: '.*',
        current: { text: 'All', value: '$__all' },
      })),
    },
    panels,
  };
}
