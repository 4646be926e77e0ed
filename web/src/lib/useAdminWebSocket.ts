// The admin dashboard's live feed: every order event, job-queue and webhook events, and
// connection stats (refreshed every statsIntervalMs and on demand). Event lists are bounded.
import { useCallback, useEffect, useState } from "react";
import { io } from "socket.io-client";

import type {
  ConnectErrorInfo,
  ConnectionState,
  ConnectionStats,
  FulfillmentErrorEvent,
  JobQueueEvent,
  KeyDeliveredEvent,
  PaymentConfirmedEvent,
  StatusChangeEvent,
  WebhookReceivedEvent,
} from "./events";
import type { GatewaySocket } from "./useFulfillmentWebSocket";
import { followTokenLifetime, type GetToken } from "./tokenLifetime";
import { useLatest } from "./useLatest";

export type AdminUpdate =
  | { type: "fulfillment:status-change"; data: StatusChangeEvent; receivedAt: number }
  | { type: "payment:confirmed"; data: PaymentConfirmedEvent; receivedAt: number }
  | { type: "fulfillment:key-delivered"; data: KeyDeliveredEvent; receivedAt: number }
  | { type: "fulfillment:error"; data: FulfillmentErrorEvent; receivedAt: number }
  | { type: "admin:job-queue-event"; data: JobQueueEvent; receivedAt: number }
  | { type: "admin:webhook-received"; data: WebhookReceivedEvent; receivedAt: number };

export interface AdminOptions {
  apiUrl?: string;
  debug?: boolean;
  /** Longest kept list of each kind (default 200): a dashboard left open must not grow forever. */
  maxEvents?: number;
  /** Stats refresh period (default 10000 ms; 0 = only on demand). */
  statsIntervalMs?: number;
  socketOptions?: Record<string, unknown>;
  /** A newer token before this one expires (see useFulfillmentWebSocket's getToken). */
  getToken?: GetToken;
  onStatusChange?: (e: StatusChangeEvent) => void;
  onJobEvent?: (e: JobQueueEvent) => void;
  onWebhookReceived?: (e: WebhookReceivedEvent) => void;
  onConnectionStats?: (s: ConnectionStats) => void;
  onConnectError?: (e: ConnectErrorInfo) => void;
}

export interface AdminState {
  isConnected: boolean;
  /** For a "reconnecting…" / "live" indicator. */
  connectionState: ConnectionState;
  /** Whether the latest connect resumed the previous session (missed events replayed by the gateway). */
  recovered: boolean;
  /**
   * Counts connects that did not resume a session (the first one included): whatever a page loaded
   * from the REST API before it may be stale now — reload it when this changes.
   */
  freshConnects: number;
  allUpdates: AdminUpdate[];
  jobEvents: JobQueueEvent[];
  webhookEvents: WebhookReceivedEvent[];
  connectionStats: ConnectionStats | null;
  connectError: ConnectErrorInfo | null;
  getConnections: () => Promise<ConnectionStats>;
  socket: GatewaySocket | null;
}

const ORDER_EVENTS = ["fulfillment:status-change", "payment:confirmed", "fulfillment:key-delivered", "fulfillment:error"] as const;

function push<T>(list: T[], item: T, max: number): T[] {
  const next = list.length >= max ? list.slice(list.length - max + 1) : list.slice();
  next.push(item);
  return next;
}

export function useAdminWebSocket(jwtToken: string | null, options: AdminOptions = {}): AdminState {
  const apiUrl = options.apiUrl ?? (typeof window !== "undefined" ? window.location.origin : "");
  const max = Math.max(1, options.maxEvents ?? 200);
  const interval = options.statsIntervalMs ?? 10000;
  const opts = useLatest(options);
  const [socket, setSocket] = useState<GatewaySocket | null>(null);
  const [isConnected, setConnected] = useState(false);
  const [connectionState, setConnectionState] = useState<ConnectionState>("connecting");
  const [recovered, setRecovered] = useState(false);
  const [freshConnects, setFreshConnects] = useState(0);
  const [allUpdates, setAll] = useState<AdminUpdate[]>([]);
  const [jobEvents, setJobs] = useState<JobQueueEvent[]>([]);
  const [webhookEvents, setHooks] = useState<WebhookReceivedEvent[]>([]);
  const [connectionStats, setStats] = useState<ConnectionStats | null>(null);
  const [connectError, setConnectError] = useState<ConnectErrorInfo | null>(null);

  useEffect(() => {
    if (!jwtToken) return undefined;
    const s: GatewaySocket = io(`${apiUrl}/fulfillment`, { auth: { token: jwtToken }, forceNew: true, ...(opts.current.socketOptions ?? {}) });
    setSocket(s);
    setConnectError(null);
    const log = (...a: unknown[]) => opts.current.debug && console.debug("[admin]", ...a);
    const record = (u: AdminUpdate) => setAll((l) => push(l, u, max));

    s.on("connect", () => {
      setConnected(true);
      setConnectionState("live");
      setRecovered(s.recovered === true); // undefined from a gateway without recovery
      if (!s.recovered) setFreshConnects((n) => n + 1); // events during the gap are not coming: reload
      s.emit("admin:get-connections", () => undefined); // the answer also arrives as admin:connection-stats
    });
    s.on("disconnect", () => {
      setConnected(false);
      setConnectionState(s.active ? "reconnecting" : "offline");
    });
    const onConnectError = (err: Error & { data?: { code?: string } }) => {
      const info = { message: err.message, code: err.data?.code };
      log("connect_error", info);
      setConnected(false);
      if (err.message === "Unauthorized" || err.data?.code) {
        setConnectError(info);
        setConnectionState("offline");
        s.disconnect();
      }
      opts.current.onConnectError?.(info);
    };
    s.on("connect_error", onConnectError);
    followTokenLifetime(s, () => opts.current.getToken, onConnectError, log);
    const untyped = s as unknown as { on(event: string, fn: (data: unknown) => void): void };
    for (const name of ORDER_EVENTS) {
      untyped.on(name, (data) => {
        record({ type: name, data, receivedAt: Date.now() } as AdminUpdate);
        if (name === "fulfillment:status-change") opts.current.onStatusChange?.(data as StatusChangeEvent);
      });
    }
    s.on("admin:job-queue-event", (e) => {
      setJobs((l) => push(l, e, max));
      record({ type: "admin:job-queue-event", data: e, receivedAt: Date.now() });
      opts.current.onJobEvent?.(e);
    });
    s.on("admin:webhook-received", (e) => {
      setHooks((l) => push(l, e, max));
      record({ type: "admin:webhook-received", data: e, receivedAt: Date.now() });
      opts.current.onWebhookReceived?.(e);
    });
    s.on("admin:connection-stats", (st) => {
      setStats(st);
      opts.current.onConnectionStats?.(st);
    });
    return () => {
      s.removeAllListeners();
      s.disconnect();
      setSocket(null);
      setConnected(false);
      setConnectionState("connecting");
    };
  }, [apiUrl, jwtToken, max, opts]);

  useEffect(() => {
    if (!socket || !interval) return undefined;
    const t = setInterval(() => {
      if (socket.connected) socket.emit("admin:get-connections", () => undefined);
    }, interval);
    return () => clearInterval(t);
  }, [socket, interval]);

  const getConnections = useCallback(
    () =>
      new Promise<ConnectionStats>((resolve, reject) => {
        if (!socket || !socket.connected) return reject(new Error("not connected"));
        socket.timeout(10000).emit("admin:get-connections", (err: Error | null, r: ConnectionStats | { ok: false; error: string }) => {
          if (err) return reject(err);
          if ("ok" in r) return reject(new Error(r.error));
          resolve(r);
        });
      }),
    [socket],
  );

  return { isConnected, connectionState, recovered, freshConnects, allUpdates, jobEvents, webhookEvents, connectionStats, connectError, getConnections, socket };
}
