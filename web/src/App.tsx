import { AdminPage } from "./pages/AdminPage";
import { HomePage } from "./pages/HomePage";
import { LoginPage } from "./pages/LoginPage";
import { OrderPage } from "./pages/OrderPage";
import { SessionExpired } from "./pages/common";
import { clearToken, claimsOf, getToken, isExpired } from "./lib/auth";

export function App() {
  const path = window.location.pathname;
  const token = getToken();
  const claims = claimsOf(token);
  const order = /^\/orders\/([^/]+)\/?$/.exec(path);
  let page;
  if (path === "/login") page = <LoginPage />;
  else if (!token) page = <SignedOut />;
  else if (isExpired(token)) page = <SessionExpired reason="token_expired" />;
  else if (order) page = <OrderPage orderId={decodeURIComponent(order[1])} token={token} />;
  else if (path === "/admin" || path === "/admin/") page = claims.role === "admin" ? <AdminPage token={token} /> : <AdminsOnly />;
  else page = <HomePage token={token} />;
  return (
    <>
      <header className="topbar">
        <a href="/" className="brand">Order fulfillment</a>
        <nav>
          {claims.role === "admin" && <a href="/admin">Dashboard</a>}
          {token ? (
            <button
              type="button"
              className="link"
              onClick={() => {
                clearToken();
                window.location.href = "/login";
              }}
            >
              Sign out {claims.sub ? `(${claims.sub})` : ""}
            </button>
          ) : (
            <a href="/login">Sign in</a>
          )}
        </nav>
      </header>
      <main>{page}</main>
    </>
  );
}

function SignedOut() {
  return (
    <section className="card">
      <h1>Sign in to see your orders</h1>
      <p>
        Open this page from your store (it passes your session), or use the <a href="/login">demo sign-in</a> when the gateway runs in
        demo mode.
      </p>
    </section>
  );
}

function AdminsOnly() {
  return (
    <section className="card" data-testid="admins-only">
      <h1>Admins only</h1>
      <p>
        The fulfillment dashboard is for the shop&apos;s operators. <a href="/">See your orders</a>, or sign in with an admin account.
      </p>
    </section>
  );
}
