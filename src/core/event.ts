/**
 * An event is one line on a machine's timeline and in the audit log: who did what, when, why.
 * Every mutation through the API and every engine transition writes one.
 */
export interface IngotEvent {
  /** Monotonic per store; the SSE stream resumes from it (`Last-Event-ID`). */
  readonly id: number;
  readonly at: string;
  /** Dotted type: `machine.created`, `machine.transition`, `step.started`, `step.failed`, `dhcp.offer`… */
  readonly type: string;
  /** `info`, `warning` or `error`: what the timeline colours. */
  readonly level: EventLevel;
  readonly machineId: string | null;
  /** The cluster whose timeline the event is on (a member's step is on both timelines). */
  readonly clusterId: string | null;
  readonly jobId: string | null;
  /** `user:<token name>`, `engine:<region>`, `agent`, `watchdog`, `system`. */
  readonly actor: string;
  readonly message: string;
  readonly data: Record<string, unknown>;
}

export const EventLevel = { Info: 'info', Warning: 'warning', Error: 'error' } as const;
export type EventLevel = (typeof EventLevel)[keyof typeof EventLevel];
export const EVENT_LEVELS: readonly EventLevel[] = Object.values(EventLevel);

export type NewEvent = Omit<
  IngotEvent,
  'id' | 'at' | 'level' | 'machineId' | 'clusterId' | 'jobId' | 'data'
> & {
  level?: EventLevel;
  machineId?: string | null;
  clusterId?: string | null;
  jobId?: string | null;
  data?: Record<string, unknown>;
};
