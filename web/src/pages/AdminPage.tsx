import { useCallback, useEffect, useMemo, useState } from "react";

import { getSummary, listJobs, retryJob, type JobView, type Summary } from "../lib/api";
import type { StatusChangeEvent, WebhookReceivedEvent } from "../lib/events";
import { useAdminWebSocket } from "../lib/useAdminWebSocket";
import { ConnectionIndicator, ProgressBar, StatusBadge } from "./common";

const WINDOW_S = 60;

const WINDOWS: [number, string][] = [[900, "15 minutes"], [3600, "1 hour"], [86400, "24 hours"]];
const JOB_STATES = ["failed", "retry", "running", "queued", "completed"] as const;

const time = (iso?: string, fallbackMs?: number) => {
  const ms = iso ? Date.parse(iso) : fallbackMs;
  return ms ? <time dateTime={new Date(ms).toISOString()}>{new Date(ms).toLocaleTimeString()}</time> : null;
};
const OrderLink = ({ id }: { id?: string }) => (id ? <a href={`/orders/${encodeURIComponent(id)}`}><code>{id}</code></a> : null);

export function AdminPage({ token }: { token: string }) {
  const admin = useAdminWebSocket(token, { maxEvents: 300 });
  const origin = window.location.origin;
  const [jobs, setJobs] = useState<JobView[]>([]);
  const [jobState, setJobState] = useState<(typeof JOB_STATES)[number]>("failed");
  const [windowSeconds, setWindowSeconds] = useState(3600);
  const [summary, setSummary] = useState<Summary | null>(null);
  const [orderFilter, setOrderFilter] = useState("");
  const [now, setNow] = useState(Date.now());
  const [message, setMessage] = useState<string | null>(null);
  const [outcomes, setOutcomes] = useState<Record<string, string>>({});
  const reload = useCallback(() => {
    listJobs(origin, token, jobState)
      .then((r) => {
        setJobs(r.jobs);
        setMessage(null);
      })
      .catch((e: Error) => setMessage(`Could not load jobs: ${e.message}`));
    getSummary(origin, token, windowSeconds)
      .then(setSummary)
      .catch((e: Error) => setMessage(`Could not load counts: ${e.message}`));
  }, [origin, token, jobState, windowSeconds]);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  // On every connect that did not resume the session (the first one too), on a new window or
  // filter, every 10 s, and shortly after job or webhook events: counts and lists from the server.
  useEffect(() => {
    if (admin.freshConnects === 0) return undefined;
    reload();
    const t = setInterval(reload, 10000);
    return () => clearInterval(t);
  }, [admin.freshConnects, reload]);
  const lastChange = admin.jobEvents.length + admin.webhookEvents.length;
  useEffect(() => {
    if (lastChange === 0) return undefined;
    const t = setTimeout(reload, 500);
    return () => clearTimeout(t);
  }, [lastChange, reload]);

  const matches = (orderId?: string) => !orderFilter || (orderId ?? "").includes(orderFilter.trim());
  // events per second over the last minute
  const perSecond = useMemo(() => {
    const buckets = new Array<number>(WINDOW_S).fill(0);
    const t = Math.max(now, Date.now());
    for (const u of admin.allUpdates) {
      const age = Math.floor((t - u.receivedAt) / 1000);
      if (age >= 0 && age < WINDOW_S) buckets[WINDOW_S - 1 - age]++;
    }
    return buckets;
  }, [admin.allUpdates, now]);
  const orders = useMemo(() => {
    const m = new Map<string, { e: StatusChangeEvent; at: number }>();
    for (const u of admin.allUpdates) if (u.type === "fulfillment:status-change") m.set(u.data.orderId, { e: u.data, at: u.receivedAt });
    return [...m.values()].reverse();
  }, [admin.allUpdates]);
  // One row per webhook call: its stages (received → verified → processed / failed) update it.
  const webhooks = useMemo(() => {
    const m = new Map<string, WebhookReceivedEvent>();
    admin.webhookEvents.forEach((w, i) => m.set(w.webhookId != null ? String(w.webhookId) : `anon-${i}`, w));
    return [...m.entries()].reverse();
  }, [admin.webhookEvents]);
  const stats = admin.connectionStats;
  const retry = (j: JobView) =>
    retryJob(origin, token, j.jobId)
      .then(() => setOutcomes((o) => ({ ...o, [j.jobId]: "Retry queued — watch the job queue for its outcome." })))
      .catch((e: Error) => setOutcomes((o) => ({ ...o, [j.jobId]: `Retry refused: ${e.message}` })))
      .finally(reload);

  return (
    <div className="admin">
      <div className="row">
        <h1>Fulfillment dashboard</h1>
        <ConnectionIndicator state={admin.connectionState} error={admin.connectError?.code ?? null} />
      </div>
      {admin.connectError && <p className="err" role="alert">The gateway refused this session ({admin.connectError.code}).</p>}
      {message && <p className="err" role="alert">{message}</p>}
      <div className="row filters">
        <label>
          Order id contains <input value={orderFilter} onChange={(e) => setOrderFilter(e.target.value)} data-testid="order-filter" />
        </label>
        <label>
          Counts for the last{" "}
          <select value={windowSeconds} onChange={(e) => setWindowSeconds(Number(e.target.value))} data-testid="window">
            {WINDOWS.map(([s, label]) => (
              <option key={s} value={s}>{label}</option>
            ))}
          </select>
        </label>
      </div>
      <section className="card" aria-labelledby="stats-h">
        <div className="row">
          <h2 id="stats-h">Connections</h2>
          <button type="button" onClick={() => void admin.getConnections().catch(() => undefined)}>
            Refresh
          </button>
        </div>
        <dl className="stats" data-testid="stats">
          <div><dt>Connected</dt><dd>{stats?.totalConnected ?? "–"}</dd></div>
          <div><dt>Admins</dt><dd>{stats?.admins ?? "–"}</dd></div>
          <div><dt>Users</dt><dd>{stats?.users ?? "–"}</dd></div>
          <div><dt>Orders watched</dt><dd>{stats?.ordersBeingWatched ?? "–"}</dd></div>
        </dl>
        {stats && stats.watchedOrders.length > 0 && (
          <p className="watched" data-testid="watched-orders">
            Watched now:{" "}
            {stats.watchedOrders.filter((w) => matches(w.orderId)).slice(0, 20).map((w) => (
              <span key={w.orderId}>
                <OrderLink id={w.orderId} /> ({w.subscribers}){" "}
              </span>
            ))}
          </p>
        )}
      </section>
      <div className="grid">
        <section className="card" aria-labelledby="counts-h">
          <h2 id="counts-h">Jobs and webhooks, last {WINDOWS.find(([s]) => s === windowSeconds)?.[1]}</h2>
          <div data-testid="counts">
            <h3>Jobs by state</h3>
            <Bars data={JOB_STATES.map((k) => [k, summary?.jobs[k] ?? 0])} />
            <h3>Webhooks by outcome</h3>
            <Bars data={(["processed", "verified", "received", "failed"] as const).map((k) => [k, summary?.webhooks[k] ?? 0])} />
          </div>
          <h3>Events per second (last minute)</h3>
          <Sparkline values={perSecond} />
        </section>
        <section className="card" aria-labelledby="orders-h">
          <h2 id="orders-h">Order updates</h2>
          <ul className="feed" data-testid="order-updates">
            {orders.filter(({ e }) => matches(e.orderId)).slice(0, 12).map(({ e, at }) => (
              <li key={e.orderId}>
                {time(e.timestamp, at)} <OrderLink id={e.orderId} /> <StatusBadge status={e.status} />
                {e.status === "processing" && <ProgressBar value={e.jobProgress ?? 0} label={`Progress of ${e.orderId}`} />}
              </li>
            ))}
          </ul>
        </section>
        <section className="card" aria-labelledby="jobs-h">
          <h2 id="jobs-h">Job queue</h2>
          <ul className="feed" data-testid="job-events">
            {admin.jobEvents.filter((j) => matches(j.orderId)).slice(-15).reverse().map((j, i) => (
              <li key={`${j.jobId}-${j.event}-${i}`}>
                {time(j.timestamp)} <code>{j.jobId}</code> <OrderLink id={j.orderId} /> {j.event}
                {j.progress != null && j.event === "progress" ? ` ${j.progress}%` : ""}
                {j.error ? <span className="err"> {j.error}</span> : null}
              </li>
            ))}
          </ul>
        </section>
        <section className="card" aria-labelledby="hooks-h">
          <h2 id="hooks-h">Webhooks</h2>
          <ul className="feed" data-testid="webhook-events">
            {webhooks.filter(([, w]) => matches(w.orderId)).slice(0, 15).map(([key, w]) => (
              <li key={key} data-webhook={key}>
                {time(w.timestamp)} {w.provider} {w.eventType ?? ""} <StatusBadge status={w.status} /> <OrderLink id={w.orderId} />
                {w.error ? <span className="err"> {w.error}</span> : null}
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section className="card" aria-labelledby="list-h">
        <div className="row">
          <h2 id="list-h">Jobs</h2>
          <label>
            State{" "}
            <select value={jobState} onChange={(e) => setJobState(e.target.value as (typeof JOB_STATES)[number])} data-testid="job-state">
              {JOB_STATES.map((s) => (
                <option key={s} value={s}>{s}</option>
              ))}
            </select>
          </label>
        </div>
        {jobs.filter((j) => matches(j.orderId)).length === 0 ? (
          <p>None.</p>
        ) : (
          <ul className="feed" data-testid="failed-jobs">
            {jobs.filter((j) => matches(j.orderId)).map((j) => (
              <li key={j.jobId}>
                {time(j.updatedAt)} <code>{j.jobId}</code> order <OrderLink id={j.orderId} /> <StatusBadge status={j.state} />
                {j.lastError && <span className="err">{j.lastError}</span>}{" "}
                {j.state === "failed" && j.retryable && (
                  <button type="button" onClick={() => void retry(j)}>
                    Retry
                  </button>
                )}
                {j.state === "failed" && j.retryable === false && <span className="muted">(permanent: a retry cannot help)</span>}
                {outcomes[j.jobId] && <span role="status"> {outcomes[j.jobId]}</span>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function Sparkline({ values }: { values: number[] }) {
  const max = Math.max(1, ...values);
  const w = 300, h = 60;
  const points = values.map((v, i) => `${(i / (values.length - 1)) * w},${h - (v / max) * (h - 4) - 2}`).join(" ");
  const total = values.reduce((a, b) => a + b, 0);
  return (
    <svg viewBox={`0 0 ${w} ${h}`} className="spark" role="img" aria-label={`${total} events in the last minute, peak ${max} per second`}>
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="2" />
      <text x="4" y="12" fontSize="10" fill="#4b5563">{`${total} events · peak ${max}/s`}</text>
    </svg>
  );
}

function Bars({ data }: { data: [string, number][] }) {
  const max = Math.max(1, ...data.map((d) => d[1]));
  return (
    <ul className="bars">
      {data.map(([label, n]) => (
        <li key={label}>
          <span className="lbl">{label}</span>
          <span className={`b b-${label}`} style={{ width: `${(n / max) * 100}%` }} />
          <span className="n">{n}</span>
        </li>
      ))}
    </ul>
  );
}
