import { useEffect, useState } from "react";

import { demoUsers, type DemoUser } from "../lib/api";
import { setToken } from "../lib/auth";

/** Demo mode only: the gateway lists its demo users and their tokens; outside demo mode it answers 404. */
export function LoginPage() {
  const [users, setUsers] = useState<DemoUser[] | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  useEffect(() => {
    demoUsers(window.location.origin)
      .then((r) => setUsers(r.users))
      .catch(() => setUnavailable(true));
  }, []);
  if (unavailable) {
    return (
      <section className="card">
        <h1>Sign in</h1>
        <p>Demo sign-in is only available when the gateway runs in demo mode. Open this page from your store instead.</p>
      </section>
    );
  }
  return (
    <section className="card">
      <h1>Demo sign-in</h1>
      <p>Pick a demo user. Orders flow for them every few seconds.</p>
      <ul className="users">
        {(users ?? []).map((u) => (
          <li key={u.userId}>
            <button
              type="button"
              onClick={() => {
                setToken(u.token);
                window.location.href = u.role === "admin" ? "/admin" : "/";
              }}
            >
              Sign in as <strong>{u.userId}</strong> {u.role === "admin" ? "(admin)" : ""}
            </button>
          </li>
        ))}
      </ul>
      {!users && <p aria-live="polite">Loading…</p>}
    </section>
  );
}
