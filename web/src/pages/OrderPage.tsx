import { useCallback, useEffect, useState } from "react";

import { ApiError, getTimeline, revealKey } from "../lib/api";
import type { OrderItem, TimelineEntry } from "../lib/events";
import { useFulfillmentWebSocket } from "../lib/useFulfillmentWebSocket";
import { ConnectionIndicator, ProgressBar, StatusBadge } from "./common";

const LABELS: Record<string, string> = {
  created: "Awaiting payment",
  paid: "Payment confirmed",
  processing: "Preparing your keys",
  fulfilled: "Keys ready",
  failed: "Order failed",
};

function describe(e: TimelineEntry): string {
  const d = e.data as Record<string, unknown>;
  switch (e.event) {
    case "payment:confirmed":
      return `Payment confirmed${d.amount != null ? `: ${d.amount} ${String(d.currency ?? "").toUpperCase()}` : ""}`;
    case "fulfillment:key-delivered":
      return `Keys delivered (${d.itemCount} item${d.itemCount === 1 ? "" : "s"})`;
    case "fulfillment:error":
      return `${d.retryable ? "Problem, retrying automatically" : "Error"}: ${d.error ?? d.message}`;
    case "key:revealed":
      return "A key was revealed";
    default: {
      const s = String(d.status ?? "");
      if (d.paymentStatus && s !== "paid" && s !== "fulfilled") return `Payment ${String(d.paymentStatus).replace(/_/g, " ")}`;
      if (s === "processing" && typeof d.jobProgress === "number") return `Processing: ${d.jobProgress}%`;
      if (s === "paid") return d.reason === "manual_retry" ? "Fulfillment restarted by support" : "Order paid, fulfillment queued";
      return LABELS[s] ?? s;
    }
  }
}

export function OrderPage({ orderId, token }: { orderId: string; token: string }) {
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const [notFound, setNotFound] = useState(false);
  const refreshTimeline = useCallback(() => {
    getTimeline(window.location.origin, token, orderId)
      .then((t) => setTimeline(t.events))
      .catch((e) => {
        if (e instanceof ApiError && e.status === 404) setNotFound(true);
      });
  }, [orderId, token]);
  const live = useFulfillmentWebSocket(orderId, token, {
    onStatusChange: refreshTimeline,
    onPaymentConfirmed: refreshTimeline,
    onKeyDelivered: refreshTimeline,
    onError: refreshTimeline,
  });
  useEffect(() => {
    if (live.isConnected) refreshTimeline();
  }, [live.isConnected, refreshTimeline]);

  if (notFound) {
    return (
      <section className="card">
        <h1>Order not found</h1>
        <p>There is no order {orderId} for this account.</p>
      </section>
    );
  }
  const order = live.order;
  const status = live.statusChange?.status ?? order?.status ?? "created";
  const progress = live.statusChange?.jobProgress ?? order?.jobProgress ?? 0;
  const error = live.error;
  return (
    <section className="card order">
      <div className="row">
        <h1>
          Order <code>{orderId}</code>
        </h1>
        <ConnectionIndicator state={live.connectionState} error={live.connectError?.code ?? null} />
      </div>
      <p className="status-line">
        <StatusBadge status={status} /> <strong data-testid="status-label">{LABELS[status] ?? status}</strong>
      </p>
      {live.paymentConfirmed && (
        <p className="ok" data-testid="payment">
          Payment received: {String(live.paymentConfirmed.amount ?? "")} {live.paymentConfirmed.currency.toUpperCase()}
        </p>
      )}
      {status === "processing" && <ProgressBar value={progress} label="Fulfillment progress" />}
      {error && status !== "fulfilled" && (
        <p className={error.retryable ? "warn" : "err"} role="alert">
          {error.retryable ? "A supplier hiccup — retrying automatically." : "We could not complete this order."} {error.error ?? error.message}
        </p>
      )}
      {status === "failed" && !error && order?.error && <p className="err" role="alert">{order.error}</p>}
      <h2>Items</h2>
      <ul className="items">
        {(order?.items ?? []).map((item) => (
          <Item key={item.itemId} item={item} fulfilled={status === "fulfilled"} />
        ))}
      </ul>
      <h2>Timeline</h2>
      <ol className="timeline" data-testid="timeline">
        {timeline.map((e) => (
          <li key={e.seq}>
            <time dateTime={e.createdAt}>{new Date(e.createdAt).toLocaleTimeString()}</time> {describe(e)}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Item({ item, fulfilled }: { item: OrderItem; fulfilled: boolean }) {
  const [key, setKey] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const reveal = async () => {
    if (!item.signedUrl) return;
    try {
      setKey((await revealKey(window.location.origin, item.signedUrl)).key);
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 410 ? "This link expired; reload the page." : (e as Error).message);
    }
  };
  return (
    <li className="item">
      <span>
        {item.productId} × {item.quantity}
      </span>{" "}
      <StatusBadge status={item.status} />
      {fulfilled && item.signedUrl && !key && (
        <button type="button" onClick={reveal}>
          Reveal key
        </button>
      )}
      {key && (
        <span className="key">
          <code data-testid="key">{key}</code>
          <button
            type="button"
            onClick={() => {
              void navigator.clipboard?.writeText(key).then(() => setCopied(true), () => setCopied(false));
            }}
          >
            {copied ? "Copied" : "Copy"}
          </button>
        </span>
      )}
      {error && <span className="err">{error}</span>}
    </li>
  );
}
