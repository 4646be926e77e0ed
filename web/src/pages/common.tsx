import type { ConnectionState } from "../lib/events";
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function ConnectionIndicator({ state, error }: { state: ConnectionState; error?: string | null }) {
  const label = error
    ? `Not connected: ${error}`
    : { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline" }[state];
  const connected = state === "live";
  return (
    <span className={`conn ${connected ? "conn-on" : "conn-off"}`} role="status" aria-live="polite" data-testid="connection" data-state={state}>
      <span className="dot" aria-hidden="true" /> {label}
    </span>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const v = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={v} aria-label={label}>
      <div className="bar" style={{ width: `${v}%` }} />
      <span className="pct">{v}%</span>
    </div>
  );
}
