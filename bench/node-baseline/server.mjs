// The baseline: the same external contract as fulfillment-gateway (JWT at connect, subscribe:order
// with ownership, admins, POST /api/v1/events, PUT /api/v1/orders/{id}), written the way a
// competent Node/Socket.IO team would: socket.io 4.8 rooms, jsonwebtoken, an in-memory order map
// (no database round trip, which favours the baseline). It exists only to be measured against.
import http from "node:http";
import { timingSafeEqual } from "node:crypto";
import jwt from "jsonwebtoken";
import { Server } from "socket.io";

const { JWT_SECRET, API_KEY } = process.env;
const PORT = Number(process.env.PORT ?? 4000);
const HOST = process.env.HOST ?? "127.0.0.1";
if (!JWT_SECRET || !API_KEY) {
  console.error("JWT_SECRET and API_KEY are required");
  process.exit(2);
}
const ORDER_EVENTS = new Set(["fulfillment:status-change", "payment:confirmed", "fulfillment:key-delivered", "fulfillment:error"]);
const ADMIN_EVENTS = new Set(["admin:job-queue-event", "admin:webhook-received"]);
const owners = new Map(); // orderId → userId
const MAX_BODY = 1_000_000;

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
function authorized(req) {
  const h = req.headers.authorization ?? "";
  const given = Buffer.from(h.startsWith("Bearer ") ? h.slice(7) : "");
  const want = Buffer.from(API_KEY);
  return given.length === want.length && timingSafeEqual(given, want);
}
function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY) reject(Object.assign(new Error("too large"), { status: 400 }));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/healthz") return send(res, 200, { status: "ok" });
    if (!url.pathname.startsWith("/api/v1/")) return send(res, 404, { error: "not_found", message: "no such route" });
    if (!authorized(req)) return send(res, 401, { error: "unauthorized", message: "bad API key" });
    const m = /^\/api\/v1\/orders\/([A-Za-z0-9._:-]{1,128})$/.exec(url.pathname);
    if (m && req.method === "PUT") {
      const body = JSON.parse(await readBody(req));
      if (typeof body.userId !== "string" || !body.userId) return send(res, 400, { error: "invalid_body", message: "userId" });
      const created = !owners.has(m[1]);
      owners.set(m[1], body.userId);
      return send(res, created ? 201 : 200, { orderId: m[1], userId: body.userId, status: body.status ?? "created" });
    }
    if (url.pathname === "/api/v1/events" && req.method === "POST") {
      let body;
      try {
        body = JSON.parse(await readBody(req));
      } catch (e) {
        return send(res, 400, { error: e.status ? "payload_too_large" : "malformed_json", message: e.message });
      }
      const { event, data } = body ?? {};
      if (!ORDER_EVENTS.has(event) && !ADMIN_EVENTS.has(event)) return send(res, 400, { error: "unknown_event", message: "unknown event" });
      if (!data || typeof data !== "object") return send(res, 400, { error: "invalid_body", message: "data" });
      if (ORDER_EVENTS.has(event) && (typeof data.orderId !== "string" || !data.orderId)) {
        return send(res, 400, { error: "missing_order_id", message: "data.orderId" });
      }
      if (!data.timestamp) data.timestamp = new Date().toISOString();
      const rooms = ORDER_EVENTS.has(event) ? [`order:${data.orderId}`, "admins"] : ["admins"];
      nsp.to(rooms).emit(event, data); // one emit: a socket in both rooms gets it once
      return send(res, 202, { status: "accepted", event });
    }
    return send(res, 404, { error: "not_found", message: "no such route" });
  } catch (e) {
    return send(res, e.status ?? 400, { error: "bad_request", message: e.message });
  }
});

const io = new Server(server, { cors: { origin: (process.env.CORS_ORIGINS ?? "http://localhost:3000").split(","), credentials: true } });
const nsp = io.of("/fulfillment");
nsp.use((socket, next) => {
  const token = socket.handshake.auth?.token ?? socket.handshake.headers.authorization?.replace(/^Bearer /, "") ?? socket.handshake.query.token;
  if (!token) return next(Object.assign(new Error("Unauthorized"), { data: { code: "token_missing" } }));
  try {
    const claims = jwt.verify(token, JWT_SECRET, { algorithms: ["HS256"], clockTolerance: 10 });
    socket.data.user = { id: claims.sub, admin: claims.role === "admin" };
    next();
  } catch (e) {
    next(Object.assign(new Error("Unauthorized"), { data: { code: e.name === "TokenExpiredError" ? "token_expired" : "token_invalid" } }));
  }
});
nsp.on("connection", (socket) => {
  if (socket.data.user.admin) socket.join("admins");
  socket.on("subscribe:order", (req, ack) => {
    const orderId = req?.orderId;
    if (typeof orderId !== "string" || !orderId) return ack?.({ ok: false, error: "invalid" });
    if (!socket.data.user.admin && owners.get(orderId) !== socket.data.user.id) return ack?.({ ok: false, orderId, error: "forbidden" });
    socket.join(`order:${orderId}`);
    ack?.({ ok: true, orderId });
  });
  socket.on("unsubscribe:order", (req, ack) => {
    socket.leave(`order:${req?.orderId}`);
    ack?.({ ok: true, orderId: req?.orderId });
  });
});

server.listen(PORT, HOST, () => {
  console.log(`READY port=${server.address().port}`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
