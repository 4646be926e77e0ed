// How a host application hands the pages a token: a URL fragment `#token=<JWT>` (never sent to a
// server, removed from the address bar at once) or `sessionStorage["fg.token"]` set before
// navigating. The token then lives in this tab's sessionStorage only.
const KEY = "fg.token";

export function takeTokenFromUrl(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!m) return;
  sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

export const getToken = (): string | null => sessionStorage.getItem(KEY);
export const setToken = (t: string): void => sessionStorage.setItem(KEY, t);
export const clearToken = (): void => sessionStorage.removeItem(KEY);

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
