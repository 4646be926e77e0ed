import { useEffect, useState } from "react";

import { listOrders } from "../lib/api";
import { claimsOf } from "../lib/auth";
import { orderTitle, type OrderSnapshot } from "../lib/events";
import { SessionExpired, StatusBadge, isAuthFailure } from "./common";

export function HomePage({ token }: { token: string }) {
  const [orders, setOrders] = useState<OrderSnapshot[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);
  const claims = claimsOf(token);
  useEffect(() => {
    const load = () =>
      listOrders(window.location.origin, token)
        .then((r) => {
          setOrders(r.orders);
          setError(null); // a failure before this one is over
        })
        .catch((e: Error) => {
          if (isAuthFailure(e)) setExpired(true);
          else setError("We can't reach the server right now — retrying…");
        });
    void load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, [token]);
  if (expired) return <SessionExpired />;
  return (
    <section className="card">
      <h1>{claims.role === "admin" ? "Recent orders" : "Your orders"}</h1>
      {claims.role === "admin" && (
        <p>
          <a href="/admin">Open the admin dashboard</a>
        </p>
      )}
      {error && (
        <p role="alert" className="warn" data-testid="list-error">
          {error}
        </p>
      )}
      {orders && orders.length === 0 && <p>No orders yet.</p>}
      <ul className="orders">
        {(orders ?? []).map((o) => (
          <li key={o.orderId}>
            <a href={`/orders/${encodeURIComponent(o.orderId)}`}>{orderTitle(o, o.orderId)}</a> <StatusBadge status={o.status} />
            <span className="muted">
              {" "}
              {o.items.map((i) => i.name ?? i.productId).join(", ")} · {new Date(o.createdAt).toLocaleString()}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
