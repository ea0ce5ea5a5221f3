import type { StreamStatus } from '../api/event-stream.ts';

const LABELS: Record<StreamStatus, string> = {
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  unauthorised: 'Not live: token refused',
};

/** Whether the page is receiving the region's event stream. */
export function LiveIndicator({ status }: { status: StreamStatus }) {
  return (
    <span className={`live live-${status}`} title="Updates from the region's event stream">
      <span className="dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
