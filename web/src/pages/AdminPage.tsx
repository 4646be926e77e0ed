import { useCallback, useEffect, useMemo, useState } from "react";

import { listJobs, retryJob, type JobView } from "../lib/api";
import type { StatusChangeEvent } from "../lib/events";
import { useAdminWebSocket } from "../lib/useAdminWebSocket";
import { ConnectionIndicator, ProgressBar, StatusBadge } from "./common";

const WINDOW_S = 60;

export function AdminPage({ token }: { token: string }) {
  const admin = useAdminWebSocket(token, { maxEvents: 300 });
  const [failed, setFailed] = useState<JobView[]>([]);
  const [now, setNow] = useState(Date.now());
  const [message, setMessage] = useState<string | null>(null);
  const loadFailed = useCallback(() => {
    listJobs(window.location.origin, token, "failed")
      .then((r) => setFailed(r.jobs))
      .catch((e: Error) => setMessage(e.message));
  }, [token]);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  // On every connect that did not resume the session (the first one too): what happened meanwhile
  // is not coming as events, so reload from the API.
  useEffect(() => {
    if (admin.freshConnects > 0) loadFailed();
  }, [admin.freshConnects, loadFailed]);
  const lastJob = admin.jobEvents[admin.jobEvents.length - 1];
  useEffect(() => {
    if (lastJob && (lastJob.event === "failed" || lastJob.event === "queued")) loadFailed();
  }, [lastJob, loadFailed]);

  // events per second over the last minute, and job outcomes
  const perSecond = useMemo(() => {
    const buckets = new Array<number>(WINDOW_S).fill(0);
    const t = Math.max(now, Date.now());
    for (const u of admin.allUpdates) {
      const age = Math.floor((t - u.receivedAt) / 1000);
      if (age >= 0 && age < WINDOW_S) buckets[WINDOW_S - 1 - age]++;
    }
    return buckets;
  }, [admin.allUpdates, now]);
  const outcomes = useMemo(() => {
    let completed = 0, retried = 0, failedN = 0;
    for (const j of admin.jobEvents) {
      if (j.event === "completed") completed++;
      if (j.event === "failed" && j.willRetry) retried++;
      if (j.event === "failed" && !j.willRetry) failedN++;
    }
    return { completed, retried, failed: failedN };
  }, [admin.jobEvents]);
  const orders = useMemo(() => {
    const m = new Map<string, StatusChangeEvent>();
    for (const u of admin.allUpdates) if (u.type === "fulfillment:status-change") m.set(u.data.orderId, u.data);
    return [...m.values()].reverse().slice(0, 12);
  }, [admin.allUpdates]);
  const stats = admin.connectionStats;

  return (
    <div className="admin">
      <div className="row">
        <h1>Fulfillment dashboard</h1>
        <ConnectionIndicator state={admin.connectionState} error={admin.connectError?.code ?? null} />
      </div>
      {admin.connectError && <p className="err" role="alert">The gateway refused this session ({admin.connectError.code}). Admins only.</p>}
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
      </section>
      <div className="grid">
        <section className="card" aria-labelledby="rate-h">
          <h2 id="rate-h">Events per second (last minute)</h2>
          <Sparkline values={perSecond} />
          <h3>Job outcomes</h3>
          <Bars data={[["completed", outcomes.completed], ["retried", outcomes.retried], ["failed", outcomes.failed]]} />
        </section>
        <section className="card" aria-labelledby="orders-h">
          <h2 id="orders-h">Order updates</h2>
          <ul className="feed">
            {orders.map((o) => (
              <li key={o.orderId}>
                <code>{o.orderId}</code> <StatusBadge status={o.status} />
                {o.status === "processing" && <ProgressBar value={o.jobProgress ?? 0} label={`Progress of ${o.orderId}`} />}
              </li>
            ))}
          </ul>
        </section>
        <section className="card" aria-labelledby="jobs-h">
          <h2 id="jobs-h">Job queue</h2>
          <ul className="feed" data-testid="job-events">
            {admin.jobEvents.slice(-15).reverse().map((j, i) => (
              <li key={`${j.jobId}-${j.event}-${i}`}>
                <code>{j.jobId}</code> {j.event}
                {j.progress != null && j.event === "progress" ? ` ${j.progress}%` : ""}
                {j.error ? <span className="err"> {j.error}</span> : null}
              </li>
            ))}
          </ul>
        </section>
        <section className="card" aria-labelledby="hooks-h">
          <h2 id="hooks-h">Webhooks</h2>
          <ul className="feed" data-testid="webhook-events">
            {admin.webhookEvents.slice(-15).reverse().map((w, i) => (
              <li key={`${w.webhookId}-${w.status}-${i}`}>
                {w.provider} {w.eventType ?? ""} <StatusBadge status={w.status} /> <code>{w.orderId}</code>
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section className="card" aria-labelledby="failed-h">
        <h2 id="failed-h">Failed jobs</h2>
        {message && <p className="err">{message}</p>}
        {failed.length === 0 ? (
          <p>None.</p>
        ) : (
          <ul className="feed" data-testid="failed-jobs">
            {failed.map((j) => (
              <li key={j.jobId}>
                <code>{j.jobId}</code> order <code>{j.orderId}</code> <span className="err">{j.lastError}</span>{" "}
                <button
                  type="button"
                  onClick={() =>
                    retryJob(window.location.origin, token, j.jobId)
                      .then(() => loadFailed())
                      .catch((e: Error) => setMessage(e.message))
                  }
                >
                  Retry
                </button>
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
      <text x="4" y="12" fontSize="10" fill="#667085">{`${total} events · peak ${max}/s`}</text>
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
