// Keeps a socket's session alive while its token is replaced: on `auth:expiring` it asks the host
// application for a newer token (`getToken`) and sends it with `auth:refresh`; the socket's auth
// is updated too, so a later reconnect presents the new token. On `auth:expired` (no refresh, or
// none possible) it reports the session as over: the page asks the user to sign in again. The
// server's other way of ending a session, `limit:exceeded` (a client over its event rate), is
// reported the same way, with code "rate_limited".
import type { GatewaySocket } from "./useFulfillmentWebSocket";

/** `auth:expired` as the refused-token `connect_error` it amounts to, for the hooks' one handler. */
export const expiredTokenError = (): Error & { data: { code: string } } =>
  Object.assign(new Error("Unauthorized"), { data: { code: "token_expired" } });

/** `limit:exceeded` as a `connect_error`-shaped error: the server ended the session for good. */
export const limitExceededError = (code: string): Error & { data: { code: string } } =>
  Object.assign(new Error("Rate limited"), { data: { code } });

export type GetToken = () => Promise<string | null> | string | null;

export function followTokenLifetime(
  s: GatewaySocket,
  getToken: () => GetToken | undefined,
  onEnded: (err: Error & { data: { code: string } }) => void,
  log: (...a: unknown[]) => void,
): void {
  s.on("auth:expiring", ({ expiresAt }) => {
    const provider = getToken();
    log("token expires at", expiresAt, provider ? "— refreshing" : "— no getToken, it will end");
    if (!provider) return;
    void Promise.resolve(provider())
      .then((token) => {
        if (!token) return;
        s.emit("auth:refresh", { token }, (ack) => {
          log("refresh", ack);
          if (ack.ok) s.auth = { ...(typeof s.auth === "object" ? s.auth : {}), token };
        });
      })
      .catch((e) => log("getToken failed", e));
  });
  s.on("auth:expired", () => onEnded(expiredTokenError()));
  s.on("limit:exceeded", (e) => onEnded(limitExceededError(e.code)));
}
