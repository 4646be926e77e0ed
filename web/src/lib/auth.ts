// How a host application hands the pages a token: a URL fragment `#token=<JWT>` (never sent to a
// server, removed from the address bar at once) or `localStorage["fg.token"]` set before
// navigating. The token is kept in this origin's localStorage, so other tabs and later visits use
// it too, until it expires (its `exp`) or the user signs out.
const KEY = "fg.token";

export function takeTokenFromUrl(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!m) return;
  localStorage.setItem(KEY, decodeURIComponent(m[1]));
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

export const getToken = (): string | null => localStorage.getItem(KEY);
export const setToken = (t: string): void => localStorage.setItem(KEY, t);
export const clearToken = (): void => localStorage.removeItem(KEY);

/** Whether the token's `exp` has passed (the gateway would refuse it). */
export function isExpired(token: string | null, nowMs = Date.now()): boolean {
  const { exp } = claimsOf(token);
  return typeof exp === "number" && exp * 1000 <= nowMs;
}

/** The claims of a JWT, for display only (the gateway verifies). */
export function claimsOf(token: string | null): { sub?: string; role?: string; email?: string; exp?: number } {
  if (!token) return {};
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return {};
  }
}
