import { useCallback, useEffect, useRef, useState } from "react";

import { ApiError, getTimeline, revealKey } from "../lib/api";
import { formatCrypto, formatPrice, orderTitle, orderTotal, type OrderItem, type TimelineEntry } from "../lib/events";
import { useFulfillmentWebSocket } from "../lib/useFulfillmentWebSocket";
import { ConnectionIndicator, SessionExpired, StatusBadge, isAuthFailure } from "./common";

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
      return `Payment confirmed${d.amount != null ? `: ${formatCrypto(d.amount as number, String(d.currency ?? ""))}` : ""}`;
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
  const [expired, setExpired] = useState(false);
  const refreshTimeline = useCallback(() => {
    getTimeline(window.location.origin, token, orderId)
      .then((t) => setTimeline(t.events))
      .catch((e) => {
        if (e instanceof ApiError && e.status === 404) setNotFound(true);
        if (isAuthFailure(e)) setExpired(true);
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

  if (expired || (live.connectError && isAuthFailure(live.connectError))) return <SessionExpired reason={live.connectError?.code} />;
  if (notFound) {
    return (
      <section className="card">
        <h1>Order not found</h1>
        <p>There is no order {orderId} for this account.</p>
      </section>
    );
  }
  const order = live.order;
  // Only what the server said: no status until the snapshot or an event gave one.
  const status = live.statusChange?.status ?? order?.status ?? null;
  const progress = live.statusChange?.jobProgress ?? order?.jobProgress ?? 0;
  const error = live.error;
  // What was paid: the live event, or the snapshot's (so a reload still shows it).
  const payment = live.paymentConfirmed ?? order?.payment ?? null;
  const total = order ? orderTotal(order.items) : null;
  const sold = total ?? (payment?.priceAmount != null ? payment.priceAmount : null);
  return (
    <section className="card order">
      <div className="row">
        <h1 data-testid="order-title">{orderTitle(order, orderId)}</h1>
        <ConnectionIndicator state={live.connectionState} error={live.connectError?.code ?? null} />
      </div>
      <p className="status-line" role="status" aria-live="polite" data-testid="status-line">
        {status ? (
          <>
            <StatusBadge status={status} /> <strong data-testid="status-label">{LABELS[status] ?? status}</strong>
          </>
        ) : (
          <span className="muted" data-testid="status-loading">
            Loading the order…
          </span>
        )}
      </p>
      {order?.orderNumber ? <p className="muted order-ref">Reference {orderId}</p> : null}
      {payment && (
        <p className="ok" data-testid="payment">
          Payment received: {formatCrypto(payment.amount, payment.currency)}
          {sold != null ? ` (${formatPrice(sold, order?.currency)})` : ""}
          {payment.txHash ? <span className="muted"> · transaction {payment.txHash.slice(0, 12)}…</span> : null}
        </p>
      )}
      {status && status !== "failed" && <Steps status={status} progress={progress} />}
      {error && error.retryable && status !== "fulfilled" && status !== "failed" && (
        <p className="warn" role="alert">
          A supplier hiccup — we are retrying automatically. Nothing for you to do.
        </p>
      )}
      {status === "failed" && <FailedNotice reason={error?.error ?? error?.message ?? order?.error ?? null} />}
      <h2>Items</h2>
      <ul className="items">
        {(order?.items ?? []).map((item) => (
          <Item key={item.itemId} item={item} fulfilled={status === "fulfilled"} failed={status === "failed"} currency={order?.currency} />
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

// The three steps a shopper waits through, the current one marked (aria-current="step").
const STEPS = [{ label: "Payment confirmed" }, { label: "Purchasing your keys" }, { label: "Keys ready" }] as const;
function Steps({ status, progress }: { status: string; progress: number }) {
  const current = status === "created" ? 0 : status === "paid" || status === "processing" ? 1 : status === "fulfilled" ? 3 : 0;
  return (
    <ol className="steps" data-testid="steps" aria-label="Order progress">
      {STEPS.map((step, i) => {
        const state = i < current ? "done" : i === current ? "current" : "todo";
        return (
          <li key={step.label} className={`step step-${state}`} aria-current={state === "current" ? "step" : undefined}>
            <span className="step-mark" aria-hidden="true">{state === "done" ? "✓" : i + 1}</span> {step.label}
            {state === "current" && i === 1 && status === "processing" && progress > 0 && <span className="muted"> ({progress}%)</span>}
            {state === "current" && i === 0 && <span className="muted"> (waiting for your payment)</span>}
          </li>
        );
      })}
    </ol>
  );
}

function FailedNotice({ reason }: { reason: string | null }) {
  return (
    <div className="failed-notice" role="alert" data-testid="failed-notice">
      <p className="err">
        <strong>We could not complete your order.</strong> {reason ? `What happened: ${plainReason(reason)}.` : ""}
      </p>
      <p>
        You will not be charged for keys you did not receive: the payment is refunded to the method you paid with, usually within 5
        business days. Questions? <a href="mailto:support@example.com">Contact support</a> with your order number.
      </p>
    </div>
  );
}
function plainReason(reason: string): string {
  if (/out[_ -]?of[_ -]?stock|oos/i.test(reason)) return "the product sold out at our supplier";
  if (/refund/i.test(reason)) return "the payment was refunded";
  return reason.replace(/_/g, " ");
}

function Item({ item, fulfilled, failed, currency }: { item: OrderItem; fulfilled: boolean; failed: boolean; currency?: string }) {
  const [key, setKey] = useState<string | null>(null);
  const keyRef = useRef<HTMLElement | null>(null);
  useEffect(() => {
    if (key) keyRef.current?.focus(); // the revealed key takes the focus the button had
  }, [key]);
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
        {item.name ?? item.productId} × {item.quantity}
        {item.unitPrice != null && <span className="muted"> · {formatPrice(Number(item.unitPrice) * item.quantity, currency)}</span>}
      </span>{" "}
      {failed && item.status !== "delivered" ? <StatusBadge status="not delivered" /> : <StatusBadge status={item.status} />}
      {fulfilled && item.signedUrl && !key && (
        <button type="button" onClick={reveal}>
          Reveal key
        </button>
      )}
      {key && (
        <span className="key">
          <code data-testid="key" tabIndex={-1} ref={keyRef} aria-label={`Key for ${item.productId}`}>
            {key}
          </code>
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
