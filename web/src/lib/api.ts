// REST helpers for the pages and hooks (same origin as the gateway unless apiUrl says otherwise).
import type { OrderSnapshot, TimelineEntry } from "./events";

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

async function call<T>(apiUrl: string, path: string, token: string | null, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body) headers["content-type"] = "application/json";
  const res = await fetch(apiUrl + path, { ...init, headers });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const b = (body ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, b.error ?? `http_${res.status}`, b.message ?? res.statusText);
  }
  return body as T;
}

export const getOrder = (apiUrl: string, token: string, orderId: string) =>
  call<OrderSnapshot>(apiUrl, `/api/v1/orders/${encodeURIComponent(orderId)}`, token);

export const getTimeline = (apiUrl: string, token: string, orderId: string) =>
  call<{ orderId: string; events: TimelineEntry[]; nextAfter?: number | null }>(apiUrl, `/api/v1/orders/${encodeURIComponent(orderId)}/events`, token);

export const listOrders = (apiUrl: string, token: string) => call<{ orders: OrderSnapshot[] }>(apiUrl, "/api/v1/orders", token);

/** Fetches a key through its signed URL (the URL is the credential). */
export const revealKey = (apiUrl: string, signedUrl: string) => call<{ key: string; type: string }>(apiUrl, signedUrl, null);

export interface JobView {
  jobId: string;
  orderId: string;
  state: string;
  attempts: number;
  maxAttempts: number;
  progress: number;
  lastError?: string;
  updatedAt: string;
  /** A manual retry can help (false after a permanent failure such as out of stock). */
  retryable?: boolean;
}

export interface Summary {
  windowSeconds: number;
  since: string;
  jobs: Record<"queued" | "running" | "retry" | "completed" | "failed", number>;
  webhooks: Record<"received" | "verified" | "processed" | "failed", number>;
}
export const getSummary = (apiUrl: string, token: string, windowSeconds: number) =>
  call<Summary>(apiUrl, `/api/v1/admin/summary?windowSeconds=${windowSeconds}`, token);
export const listJobs = (apiUrl: string, token: string, state?: string) =>
  call<{ jobs: JobView[] }>(apiUrl, `/api/v1/jobs${state ? `?state=${state}` : ""}`, token);
export const retryJob = (apiUrl: string, token: string, jobId: string) =>
  call<JobView>(apiUrl, `/api/v1/jobs/${encodeURIComponent(jobId)}/retry`, token, { method: "POST", body: "{}" });

export interface DemoUser {
  userId: string;
  role: string;
  token: string;
}
export const demoUsers = (apiUrl: string) => call<{ users: DemoUser[] }>(apiUrl, "/api/v1/demo/users", null);
