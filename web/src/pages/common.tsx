import { ApiError } from "../lib/api";
import { clearToken } from "../lib/auth";
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

/** What every page shows when the gateway refuses the session: never a made-up state. */
export function SessionExpired({ reason }: { reason?: string | null }) {
  return (
    <section className="card" data-testid="session-expired">
      <h1>Your session has expired</h1>
      <p>
        {reason === "token_invalid" ? "We could not verify your sign-in." : "For your security, sign-ins do not last forever."}{" "}
        Please <a href="/login" onClick={() => clearToken()}>sign in again</a> to see your orders.
      </p>
    </section>
  );
}

/** Whether an error from the API or a refused connect means the session is no longer valid. */
export function isAuthFailure(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 401;
  const code = (e as { code?: string } | null)?.code;
  return code === "token_expired" || code === "token_invalid" || code === "token_missing";
}
