// Live updates of one order for the shopper.
//
// Correct where a naive hook is wrong:
// - connects to `${apiUrl}/fulfillment` (socket.io-client has no `namespace` option);
// - after a reconnect the gateway recovered (`socket.recovered`: same session, the events missed
//   meanwhile replayed in order), nothing else is needed; after any other (re)connect it subscribes
//   again and takes the order snapshot from the subscribe ack (GET /api/v1/orders/{id} from a
//   gateway that sends none), so nothing missed while offline stays missing and a page opened late
//   is not blank;
// - never lets an older update overwrite a newer one (see isNewer);
// - one socket per hook instance, closed on unmount; changing orderId re-subscribes on the same
//   socket; callbacks are read through refs, so new callback identities never reconnect;
// - a refused connection (expired/invalid token) is surfaced and not retried in a loop.
import { useCallback, useEffect, useRef, useState } from "react";
import { io, type Socket } from "socket.io-client";

import { getOrder } from "./api";
import {
  isNewer,
  type ClientToServerEvents,
  type ConnectErrorInfo,
  type ConnectionState,
  type FulfillmentErrorEvent,
  type KeyDeliveredEvent,
  type OrderSnapshot,
  type PaymentConfirmedEvent,
  type ServerToClientEvents,
  type StatusChangeEvent,
  type SubscribeAck,
} from "./events";
import { followTokenLifetime, type GetToken } from "./tokenLifetime";
import { useLatest } from "./useLatest";

export type GatewaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface FulfillmentOptions {
  /** Gateway origin; defaults to the page's origin. */
  apiUrl?: string;
  /** Subscribe to `orderId` on every connect (default true). */
  autoSubscribe?: boolean;
  /** Load GET /api/v1/orders/{id} on connect (default true). */
  loadSnapshot?: boolean;
  debug?: boolean;
  /** socket.io-client options to add (transports, reconnectionDelay…). */
  socketOptions?: Record<string, unknown>;
  /**
   * Called shortly before the token expires (`auth:expiring`): return a newer token for the same
   * user and the socket carries on; without it the socket ends at `exp` with connectError
   * `token_expired` ("sign in again").
   */
  getToken?: GetToken;
  onStatusChange?: (e: StatusChangeEvent) => void;
  onPaymentConfirmed?: (e: PaymentConfirmedEvent) => void;
  onKeyDelivered?: (e: KeyDeliveredEvent) => void;
  onError?: (e: FulfillmentErrorEvent) => void;
  onConnectError?: (e: ConnectErrorInfo) => void;
}

export interface FulfillmentState {
  isConnected: boolean;
  /** For a "reconnecting…" / "live" indicator. */
  connectionState: ConnectionState;
  /** Whether the latest connect resumed the previous session (missed events replayed by the gateway). */
  recovered: boolean;
  /** The latest status (from a live event or the snapshot), never older than what was shown. */
  statusChange: StatusChangeEvent | null;
  paymentConfirmed: PaymentConfirmedEvent | null;
  keyDelivered: KeyDeliveredEvent | null;
  error: FulfillmentErrorEvent | null;
  /** Set when the gateway refused the connection; the hook does not retry then. */
  connectError: ConnectErrorInfo | null;
  /** The order snapshot, kept current by live events. */
  order: OrderSnapshot | null;
  subscribe: (orderId: string) => Promise<SubscribeAck>;
  unsubscribe: (orderId: string) => Promise<SubscribeAck>;
  socket: GatewaySocket | null;
}

const defaultApiUrl = () => (typeof window !== "undefined" ? window.location.origin : "");

export function useFulfillmentWebSocket(orderId: string | null, jwtToken: string | null, options: FulfillmentOptions = {}): FulfillmentState {
  const apiUrl = options.apiUrl ?? defaultApiUrl();
  const opts = useLatest(options);
  const orderRef = useLatest(orderId);
  const [socket, setSocket] = useState<GatewaySocket | null>(null);
  const [isConnected, setConnected] = useState(false);
  const [connectionState, setConnectionState] = useState<ConnectionState>("connecting");
  const [recovered, setRecovered] = useState(false);
  const [statusChange, setStatusChange] = useState<StatusChangeEvent | null>(null);
  const [paymentConfirmed, setPaymentConfirmed] = useState<PaymentConfirmedEvent | null>(null);
  const [keyDelivered, setKeyDelivered] = useState<KeyDeliveredEvent | null>(null);
  const [error, setError] = useState<FulfillmentErrorEvent | null>(null);
  const [connectError, setConnectError] = useState<ConnectErrorInfo | null>(null);
  const [order, setOrder] = useState<OrderSnapshot | null>(null);
  const latest = useRef<StatusChangeEvent | null>(null);

  const log = useCallback((...args: unknown[]) => {
    if (opts.current.debug) console.debug("[fulfillment]", ...args);
  }, [opts]);

  // Applies a status (live or from the snapshot) only if it is newer than what we have.
  const applyStatus = useCallback((e: StatusChangeEvent) => {
    if (!isNewer(latest.current, e)) {
      log("ignored older update", e);
      return false;
    }
    latest.current = e;
    setStatusChange(e);
    setOrder((o) =>
      o && o.orderId === e.orderId
        ? {
            ...o,
            status: e.status,
            fulfillmentStatus: e.fulfillmentStatus ?? o.fulfillmentStatus,
            jobProgress: e.jobProgress ?? o.jobProgress,
            jobId: e.jobId ?? o.jobId,
            paymentStatus: e.paymentStatus ?? o.paymentStatus,
            error: e.error ?? o.error,
            items: e.items ?? o.items,
            updatedAt: e.timestamp,
          }
        : o,
    );
    return true;
  }, [log]);

  // A snapshot (from the subscribe ack or the REST API) replaces what is shown unless it is older.
  const applySnapshot = useCallback((raw: Partial<OrderSnapshot> & { orderId: string }) => {
    const snap: OrderSnapshot = {
      userId: "",
      status: "created",
      fulfillmentStatus: "pending",
      createdAt: "",
      updatedAt: "",
      ...raw,
      items: raw.items ?? [],
    } as OrderSnapshot;
    setOrder((prev) =>
      prev && prev.orderId === snap.orderId && Date.parse(prev.updatedAt) > (Date.parse(snap.updatedAt) || 0) ? prev : snap,
    );
    applyStatus({
      orderId: snap.orderId,
      status: snap.status,
      fulfillmentStatus: snap.fulfillmentStatus,
      jobProgress: snap.jobProgress,
      jobId: snap.jobId,
      paymentStatus: snap.paymentStatus,
      items: raw.items,
      error: snap.error,
      timestamp: snap.updatedAt,
    });
  }, [applyStatus]);

  const loadSnapshot = useCallback(async (s: GatewaySocket, id: string, token: string) => {
    try {
      const snap = await getOrder(apiUrl, token, id);
      if (orderRef.current !== id || !s.connected) return;
      applySnapshot(snap);
    } catch (e) {
      log("snapshot failed", e);
    }
  }, [apiUrl, applySnapshot, log, orderRef]);

  // Subscribes to `id` and shows the ack's snapshot (the order as of the subscribe; the live events
  // that follow are exactly those after it).
  const subscribeWithSnapshot = useCallback((s: GatewaySocket, id: string, token: string) => {
    const wantSnapshot = opts.current.loadSnapshot !== false;
    s.emit("subscribe:order", { orderId: id }, (ack) => {
      log("subscribe ack", ack);
      if (!ack.ok || !wantSnapshot || orderRef.current !== id) return;
      if (ack.order) applySnapshot(ack.order);
      else if (ack.order === undefined) void loadSnapshot(s, id, token); // a gateway without snapshots in acks
    });
  }, [applySnapshot, loadSnapshot, log, opts, orderRef]);

  // One socket per (apiUrl, token).
  useEffect(() => {
    if (!jwtToken) return undefined;
    const s: GatewaySocket = io(`${apiUrl}/fulfillment`, {
      auth: { token: jwtToken },
      forceNew: true,
      ...(opts.current.socketOptions ?? {}),
    });
    setSocket(s);
    setConnectError(null);
    const onConnect = () => {
      log("connected", s.id, s.recovered ? "(recovered)" : "");
      setConnected(true);
      setConnectionState("live");
      setRecovered(s.recovered === true); // undefined from a gateway without recovery
      if (s.recovered) return; // same session: subscriptions kept, missed events replayed by the gateway
      const id = orderRef.current;
      if (id && opts.current.autoSubscribe !== false) subscribeWithSnapshot(s, id, jwtToken);
      else if (id && opts.current.loadSnapshot !== false) void loadSnapshot(s, id, jwtToken);
    };
    const onDisconnect = (reason: string) => {
      log("disconnected", reason);
      setConnected(false);
      // socket.io-client reconnects by itself except after its own or the server's disconnect()
      setConnectionState(s.active ? "reconnecting" : "offline");
    };
    const onConnectError = (err: Error & { data?: { code?: string } }) => {
      const info: ConnectErrorInfo = { message: err.message, code: err.data?.code };
      log("connect_error", info);
      setConnected(false);
      if (err.message === "Unauthorized" || err.data?.code) {
        setConnectError(info);
        setConnectionState("offline");
        s.disconnect(); // a refused token will be refused again: no reconnect loop
      }
      opts.current.onConnectError?.(info);
    };
    const forThisOrder = (e: { orderId?: string }) => e.orderId === orderRef.current;
    const onStatus = (e: StatusChangeEvent) => {
      if (!forThisOrder(e)) return;
      if (applyStatus(e)) opts.current.onStatusChange?.(e);
    };
    const onPaid = (e: PaymentConfirmedEvent) => {
      if (!forThisOrder(e)) return;
      setPaymentConfirmed(e);
      opts.current.onPaymentConfirmed?.(e);
    };
    const onKeys = (e: KeyDeliveredEvent) => {
      if (!forThisOrder(e)) return;
      setKeyDelivered(e);
      opts.current.onKeyDelivered?.(e);
    };
    const onErr = (e: FulfillmentErrorEvent) => {
      if (!forThisOrder(e)) return;
      setError(e);
      opts.current.onError?.(e);
    };
    followTokenLifetime(s, () => opts.current.getToken, onConnectError, log);
    s.on("connect", onConnect);
    s.on("disconnect", onDisconnect);
    s.on("connect_error", onConnectError);
    s.on("fulfillment:status-change", onStatus);
    s.on("payment:confirmed", onPaid);
    s.on("fulfillment:key-delivered", onKeys);
    s.on("fulfillment:error", onErr);
    return () => {
      s.removeAllListeners();
      s.disconnect();
      setSocket(null);
      setConnected(false);
      setConnectionState("connecting");
    };
  }, [apiUrl, jwtToken, applyStatus, loadSnapshot, subscribeWithSnapshot, log, opts, orderRef]);

  // A new orderId on the same socket: move the subscription, reset per-order state.
  const previous = useRef<string | null>(null);
  useEffect(() => {
    const prev = previous.current;
    previous.current = orderId;
    if (prev === orderId) return;
    latest.current = null;
    setStatusChange(null);
    setPaymentConfirmed(null);
    setKeyDelivered(null);
    setError(null);
    setOrder(null);
    if (!socket || !socket.connected) return; // the connect handler subscribes
    if (prev) socket.emit("unsubscribe:order", { orderId: prev }, () => undefined);
    if (orderId && jwtToken && opts.current.autoSubscribe !== false) subscribeWithSnapshot(socket, orderId, jwtToken);
    else if (orderId && jwtToken && opts.current.loadSnapshot !== false) void loadSnapshot(socket, orderId, jwtToken);
  }, [orderId, socket, jwtToken, loadSnapshot, subscribeWithSnapshot, opts]);

  const subscribe = useCallback(
    (id: string) =>
      new Promise<SubscribeAck>((resolve, reject) => {
        if (!socket) return reject(new Error("not connected"));
        socket.timeout(10000).emit("subscribe:order", { orderId: id }, (err: Error | null, ack: SubscribeAck) => (err ? reject(err) : resolve(ack)));
      }),
    [socket],
  );
  const unsubscribe = useCallback(
    (id: string) =>
      new Promise<SubscribeAck>((resolve, reject) => {
        if (!socket) return reject(new Error("not connected"));
        socket.timeout(10000).emit("unsubscribe:order", { orderId: id }, (err: Error | null, ack: SubscribeAck) => (err ? reject(err) : resolve(ack)));
      }),
    [socket],
  );

  return { isConnected, connectionState, recovered, statusChange, paymentConfirmed, keyDelivered, error, connectError, order, subscribe, unsubscribe, socket };
}
