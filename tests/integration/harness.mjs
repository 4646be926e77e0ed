// Starts the real fulfillment-gateway binary on a free loopback port and gives tests what they
// need to talk to it: tokens, API calls, socket.io-client sockets. Every process started here is
// killed when its test ends.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHmac } from "node:crypto";
import { io } from "socket.io-client";

export const BIN = process.env.FG_BIN ?? path.resolve(process.cwd(), "../../build/fulfillment-gateway");
export const JWT_SECRET = "integration-test-secret-0123456789";
export const API_KEY = "integration-test-api-key";
export const IPN_SECRET = "integration-ipn-secret";
export const URL_SIGNING_SECRET = "integration-url-secret";
export const KINGUIN_SECRET = "integration-kinguin-secret";

// NOWPayments' reference: HMAC-SHA512 over JSON.stringify of the body with keys sorted recursively.
function sortObject(o) {
  if (Array.isArray(o)) return o.map(sortObject);
  if (o && typeof o === "object") return Object.keys(o).sort().reduce((r, k) => ((r[k] = sortObject(o[k])), r), {});
  return o;
}
export function signIpn(body, secret = IPN_SECRET) {
  return createHmac("sha512", secret).update(JSON.stringify(sortObject(JSON.parse(body)))).digest("hex");
}

const b64url = (s) => Buffer.from(s).toString("base64url");

// Signs with Node's crypto, independently of the gateway's own signer.
export function sign(claims, { secret = JWT_SECRET, alg = "HS256" } = {}) {
  const head = b64url(JSON.stringify({ alg, typ: "JWT" }));
  const body = b64url(JSON.stringify(claims));
  if (alg === "none") return `${head}.${body}.`;
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

export function userToken(sub, extra = {}) {
  return sign({ sub, email: `${sub}@example.com`, exp: Math.floor(Date.now() / 1000) + 3600, ...extra });
}
export function adminToken(sub = "admin-1") {
  return userToken(sub, { role: "admin" });
}

export function assertNoSanitizerReport(stderr) {
  if (/AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|ThreadSanitizer/.test(stderr)) {
    throw new Error(`sanitizer report:\n${stderr}`);
  }
}

// Starts the binary with `args` and resolves once it prints "READY port=N" (any mode of it:
// gateway, conformance, supplier-sim). stderr is collected for assertions and sanitizer checks.
export async function spawnReady(args, env) {
  const child = spawn(BIN, args, {
    env: {
      PATH: process.env.PATH,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? "",
      UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? "",
      TSAN_OPTIONS: process.env.TSAN_OPTIONS ?? "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let metricsPort;
  const port = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${stderr}`)), 15000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /READY port=(\d+)(?: metrics_port=(\d+))?\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        if (m[2]) metricsPort = Number(m[2]);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${stderr}`));
    });
  });
  return { child, port, metricsPort, stderr: () => stderr };
}

// Prometheus text exposition → [{name, labels, value}] (comments skipped).
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}
// The sum of the samples of `name` whose labels include `match`.
export function metricValue(samples, name, match = {}) {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export async function startGateway({ args = [], env = {}, dataDir, port: fixedPort = 0 } = {}) {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), "fg-it-"));
  const { child, port, metricsPort, stderr: readStderr } = await spawnReady(["--host", "127.0.0.1", "--port", String(fixedPort), "--data-dir", dir, ...args], {
    JWT_SECRET,
    API_KEY,
    IPN_SECRET,
    URL_SIGNING_SECRET,
    KINGUIN_WEBHOOK_SECRET: KINGUIN_SECRET,
    JOB_BACKOFF_BASE_MS: "50",
    JOB_BACKOFF_CAP_MS: "200",
    SUPPLIER_SIM_LATENCY_MS: "5",
    LOG_LEVEL: "warn",
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  const sockets = [];
  const gw = {
    url,
    port,
    metricsPort,
    dataDir: dir,
    child,
    stderr: readStderr,
    api(method, pathname, body, { key = API_KEY, raw, headers = {} } = {}) {
      return fetch(url + pathname, {
        method,
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
        body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
    },
    async registerOrder(orderId, userId) {
      const res = await gw.api("PUT", `/api/v1/orders/${orderId}`, { userId });
      if (res.status !== 201 && res.status !== 200) throw new Error(`register ${orderId}: ${res.status}`);
    },
    // POST /webhooks/nowpayments with a correct (or given) signature.
    ipn(fields, { sig } = {}) {
      const body = JSON.stringify(fields);
      return fetch(url + "/webhooks/nowpayments", {
        method: "POST",
        headers: { "content-type": "application/json", "x-nowpayments-sig": sig ?? signIpn(body) },
        body,
      });
    },
    async createOrder(token, items = [{ productId: "game-1", quantity: 1 }]) {
      const res = await fetch(url + "/api/v1/orders", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ items }),
      });
      if (res.status !== 201) throw new Error(`create order: ${res.status} ${await res.text()}`);
      return res.json();
    },
    get(pathname, token) {
      return fetch(url + pathname, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    },
    // GET /metrics (with the API key by default) → parsed samples, and the raw text.
    async metrics({ key = API_KEY } = {}) {
      const res = await fetch(url + "/metrics", { headers: key ? { authorization: `Bearer ${key}` } : {} });
      if (res.status !== 200) throw new Error(`metrics: ${res.status} ${await res.text()}`);
      const text = await res.text();
      return Object.assign(parseMetrics(text), { text });
    },
    async publish(event, data) {
      const res = await gw.api("POST", "/api/v1/events", { event, data });
      if (res.status !== 202) throw new Error(`publish ${event}: ${res.status} ${await res.text()}`);
    },
    // A socket.io-client socket on /fulfillment (no reconnection), tracked for stop().
    open(token, opts = {}) {
      const socket = io(`${url}/fulfillment`, {
        auth: token === undefined ? undefined : { token },
        reconnection: false,
        forceNew: true,
        ...opts,
      });
      sockets.push(socket);
      return socket;
    },
    // Resolves with the socket once connected; rejects with the connect_error.
    connect(token, opts = {}) {
      const socket = gw.open(token, opts);
      return new Promise((resolve, reject) => {
        socket.once("connect", () => resolve(socket));
        socket.once("connect_error", reject);
      });
    },
    // Resolves with the connect_error the server sends.
    connectError(token, opts = {}) {
      const socket = gw.open(token, opts);
      return new Promise((resolve, reject) => {
        socket.once("connect", () => reject(new Error("connected, expected connect_error")));
        socket.once("connect_error", resolve);
      });
    },
    // Stops the gateway; a graceful stop must exit 0 and no sanitizer may have reported.
    async stop(signal = "SIGTERM") {
      for (const s of sockets) s.disconnect();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", (code) => r(code)));
        child.kill(signal);
        const code = await exited;
        if (signal === "SIGTERM" && code !== 0) throw new Error(`gateway exited with ${code}: ${readStderr()}`);
      }
      assertNoSanitizerReport(readStderr());
    },
    cleanup() {
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return gw;
}

// Collects every event of the given names a socket receives.
export function recorder(socket, names) {
  const got = [];
  for (const n of names) socket.on(n, (data) => got.push({ event: n, data }));
  return got;
}

export function once(socket, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    socket.once(event, (d) => {
      clearTimeout(t);
      resolve(d);
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Emits with an ack and resolves with the ack's argument.
export function request(socket, event, payload, timeoutMs = 5000) {
  return socket.timeout(timeoutMs).emitWithAck(event, payload);
}

// Waits until `pred()` holds (polling every 10 ms) or fails after timeoutMs.
export async function until(pred, timeoutMs = 5000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function runBinary(args, env) {
  try {
    const out = execFileSync(BIN, args, { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"], timeout: 15000 });
    return { code: 0, stdout: out.toString(), stderr: "" };
  } catch (e) {
    return { code: e.status, stdout: e.stdout?.toString() ?? "", stderr: e.stderr?.toString() ?? "" };
  }
}

// A subscribe ack: {ok:true, orderId, order: <snapshot or null>, seq}. Returns it.
export function assertSubscribed(ack, orderId) {
  if (!ack || ack.ok !== true || ack.orderId !== orderId || !("order" in ack) || !Number.isInteger(ack.seq)) {
    throw new Error(`expected a subscribe ack for ${orderId} with a snapshot, got ${JSON.stringify(ack)}`);
  }
  if (ack.order !== null && ack.order.orderId !== orderId) throw new Error(`snapshot of another order: ${JSON.stringify(ack)}`);
  return ack;
}
