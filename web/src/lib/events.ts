// The gateway's wire contract, typed once for every part of the client.

export type OrderStatus = "created" | "paid" | "processing" | "fulfilled" | "failed" | (string & {});
export type FulfillmentStatus = "pending" | "in_progress" | "completed" | "failed" | (string & {});

export interface OrderItem {
  itemId: string;
  productId: string;
  /** The product's name as sold, when the shop gave one. */
  name?: string;
  /** Decimal text in the order's currency, when the shop gave one. */
  unitPrice?: string;
  quantity: number;
  status: "pending" | "delivered" | "failed" | (string & {});
  signedUrl?: string;
  signedUrlExpiresAt?: string;
}

/** `fulfillment:status-change` */
export interface StatusChangeEvent {
  orderId: string;
  status: OrderStatus;
  fulfillmentStatus?: FulfillmentStatus;
  paymentStatus?: string;
  jobId?: string;
  jobStatus?: string;
  jobProgress?: number;
  items?: OrderItem[];
  error?: string;
  reason?: string;
  message?: string;
  timestamp: string;
}

/** `payment:confirmed` */
export interface PaymentConfirmedEvent {
  orderId: string;
  amount: number | string | null;
  currency: string;
  txHash: string | null;
  paymentId?: string;
  priceAmount?: number;
  timestamp: string;
}

/** `fulfillment:key-delivered` */
export interface KeyDeliveredEvent {
  orderId: string;
  itemCount: number;
  deliveryMethod: "customer-reveal" | (string & {});
  timestamp: string;
}

/** `fulfillment:error` */
export interface FulfillmentErrorEvent {
  orderId: string;
  jobId?: string;
  severity: "warning" | "error" | "critical";
  retryable: boolean;
  /** Human-readable description (the design guide's field). */
  error: string;
  code?: string;
  /** Same text as `error` (kept for older clients). */
  message: string;
  attempt?: number;
  maxAttempts?: number;
  nextRetryAt?: string;
  timestamp: string;
}

/** `admin:job-queue-event` */
export interface JobQueueEvent {
  jobId: string;
  event: "queued" | "started" | "progress" | "completed" | "failed";
  queueName: string;
  orderId?: string;
  progress?: number;
  error?: string;
  result?: unknown;
  attempt?: number;
  maxAttempts?: number;
  willRetry?: boolean;
  nextRunAt?: string;
  manual?: boolean;
  timestamp: string;
}

/** `admin:webhook-received` */
export interface WebhookReceivedEvent {
  webhookId?: number;
  provider: "nowpayments" | "kinguin" | (string & {});
  eventType?: string;
  externalId?: string;
  orderId?: string;
  status: "received" | "verified" | "processed" | "failed";
  error?: string;
  timestamp: string;
}

/** `admin:connection-stats` (and the ack of `admin:get-connections`) */
export interface ConnectionStats {
  totalConnected: number;
  admins: number;
  users: number;
  ordersBeingWatched: number;
  adminSubscribersCount: number;
  watchedOrders: { orderId: string; subscribers: number }[];
  timestamp: string;
}

export interface ServerToClientEvents {
  "fulfillment:status-change": (e: StatusChangeEvent) => void;
  "payment:confirmed": (e: PaymentConfirmedEvent) => void;
  "fulfillment:key-delivered": (e: KeyDeliveredEvent) => void;
  "fulfillment:error": (e: FulfillmentErrorEvent) => void;
  "admin:job-queue-event": (e: JobQueueEvent) => void;
  "admin:webhook-received": (e: WebhookReceivedEvent) => void;
  "admin:connection-stats": (e: ConnectionStats) => void;
  /** The socket's token expires at `expiresAt`: send `auth:refresh` with a newer one before then. */
  "auth:expiring": (e: { expiresAt: string }) => void;
  /** The token expired without a refresh; the server disconnects the socket right after. */
  "auth:expired": (e: { code: "token_expired" }) => void;
  /** The socket sent events faster than its limit for too long; the server disconnects it right after. */
  "limit:exceeded": (e: { code: "rate_limited"; message: string }) => void;
}

export type RefreshAck = { ok: true; expiresAt: string | null } | { ok: false; error: string };

export type SubscribeAck =
  | {
      ok: true;
      orderId: string;
      /** The order as of the subscribe (GET /api/v1/orders/{id}); minimal for PUT-registered orders, null for none. */
      order?: Partial<OrderSnapshot> & { orderId: string } | null;
      /** Its timeline position: the events that follow the ack are exactly those after it. */
      seq?: number;
    }
  | { ok: false; orderId?: string; error: "forbidden" | "invalid" | "too_many_subscriptions" | (string & {}) };
export type ForbiddenAck = { ok: false; error: "forbidden" };

export interface ClientToServerEvents {
  "subscribe:order": (req: { orderId: string; since?: number }, ack: (a: SubscribeAck) => void) => void;
  "unsubscribe:order": (req: { orderId: string }, ack: (a: SubscribeAck) => void) => void;
  "admin:get-connections": (ack: (a: ConnectionStats | ForbiddenAck) => void) => void;
  "auth:refresh": (req: { token: string }, ack: (a: RefreshAck) => void) => void;
}

/**
 * Where a hook's socket is: `connecting` before the first connect, `live` while connected,
 * `reconnecting` after a drop (socket.io-client retries by itself), `offline` when the gateway
 * refused the token (no retry).
 */
export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline";

/** What a refused connection carries (`connect_error`). */
export interface ConnectErrorInfo {
  message: string;
  code?: "token_missing" | "token_invalid" | "token_expired" | (string & {});
}

/** GET /api/v1/orders/{id} */
export interface OrderSnapshot {
  orderId: string;
  /** The shop-facing order number (1, 2, …). */
  orderNumber?: number;
  /** What was paid (the payment:confirmed event), once paid. */
  payment?: PaymentConfirmedEvent;
  userId: string;
  status: OrderStatus;
  fulfillmentStatus: FulfillmentStatus;
  currency?: string;
  items: OrderItem[];
  jobId?: string;
  jobProgress?: number;
  error?: string;
  paymentStatus?: string;
  createdAt: string;
  updatedAt: string;
}

export interface TimelineEntry {
  seq: number;
  event: string;
  data: Record<string, unknown>;
  createdAt: string;
}

const STATUS_RANK: Record<string, number> = { created: 0, paid: 1, processing: 2, fulfilled: 3, failed: 3 };

/**
 * Whether `next` may replace `current`: never let an older update overwrite a newer one. Newer
 * timestamps win; at the same millisecond the further-along status (or higher progress) wins;
 * a terminal status is never replaced by a non-terminal one.
 */
export function isNewer(
  current: { status: string; timestamp?: string; updatedAt?: string; jobProgress?: number } | null,
  next: { status: string; timestamp?: string; updatedAt?: string; jobProgress?: number; reason?: string },
): boolean {
  if (!current) return true;
  const rank = (s: string) => STATUS_RANK[s] ?? 0;
  const terminal = (s: string) => s === "fulfilled" || s === "failed";
  // an operator's manual retry is the one way out of "failed"
  if (terminal(current.status) && !terminal(next.status) && next.reason !== "manual_retry") return false;
  const t = (x: { timestamp?: string; updatedAt?: string }) => Date.parse(x.timestamp ?? x.updatedAt ?? "") || 0;
  const tc = t(current);
  const tn = t(next);
  if (tn !== tc) return tn > tc;
  if (rank(next.status) !== rank(current.status)) return rank(next.status) > rank(current.status);
  return (next.jobProgress ?? -1) >= (current.jobProgress ?? -1);
}

/** A crypto amount as every page shows it: at most 6 decimals, no trailing zeros. */
export function formatCrypto(amount: number | string | null | undefined, currency: string): string {
  const n = typeof amount === "string" ? Number(amount) : amount;
  if (n == null || !Number.isFinite(n)) return currency.toUpperCase();
  return `${n.toLocaleString("en-US", { maximumFractionDigits: 6 })} ${currency.toUpperCase()}`;
}

/** A price in the order's currency, e.g. "USD 59.99". */
export function formatPrice(amount: number | string, currency = "USD"): string {
  const n = typeof amount === "string" ? Number(amount) : amount;
  return `${currency.toUpperCase()} ${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** The order's total as sold, when every item has its price. */
export function orderTotal(items: OrderItem[]): number | null {
  if (items.length === 0 || items.some((i) => i.unitPrice == null)) return null;
  return items.reduce((sum, i) => sum + Number(i.unitPrice) * i.quantity, 0);
}

/** What a page calls an order: its number when it has one. */
export const orderTitle = (o: { orderId: string; orderNumber?: number } | null, orderId: string) =>
  o?.orderNumber ? `Order #${o.orderNumber}` : `Order ${orderId}`;
