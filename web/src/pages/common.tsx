export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function ConnectionIndicator({ connected, error }: { connected: boolean; error?: string | null }) {
  const label = error ? `Not connected: ${error}` : connected ? "Live" : "Connecting…";
  return (
    <span className={`conn ${connected ? "conn-on" : "conn-off"}`} role="status" aria-live="polite" data-testid="connection">
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
