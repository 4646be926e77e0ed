// Engine.IO v4 / Socket.IO v5 wire behaviours, checked with raw HTTP and WebSocket against the
// binary's conformance mode (pingInterval 300, pingTimeout 200, maxPayload 1000000).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import WebSocket from "ws";
import { spawnReady, sleep, until, assertNoSanitizerReport } from "./harness.mjs";

let child, base, wsBase, readStderr;

async function startConformance() {
  const proc = await spawnReady(["conformance", "--host", "127.0.0.1", "--port", "0"], { LOG_LEVEL: "warn" });
  child = proc.child;
  readStderr = proc.stderr;
  base = `http://127.0.0.1:${proc.port}`;
  wsBase = `ws://127.0.0.1:${proc.port}`;
}

async function stopConformance() {
  const exited = new Promise((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGTERM");
  assert.equal(await exited, 0, readStderr());
  assertNoSanitizerReport(readStderr());
}

const EIO = "/engine.io/?EIO=4";
async function open() {
  const res = await fetch(`${base}${EIO}&transport=polling`);
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.equal(text[0], "0");
  return JSON.parse(text.slice(1));
}
const poll = (sid, extra = "") => fetch(`${base}${EIO}&transport=polling&sid=${sid}${extra}`);
const post = (sid, body) => fetch(`${base}${EIO}&transport=polling&sid=${sid}`, { method: "POST", body });

function ws(url) {
  const socket = new WebSocket(url);
  socket.binaryType = "nodebuffer";
  socket.messages = [];
  socket.waiters = [];
  socket.on("error", () => {});
  socket.on("message", (data, isBinary) => {
    const m = isBinary ? data : data.toString();
    const w = socket.waiters.shift();
    if (w) w(m);
    else socket.messages.push(m);
  });
  socket.closed = new Promise((r) => socket.on("close", (code) => r(code)));
  socket.next = () => (socket.messages.length ? Promise.resolve(socket.messages.shift()) : new Promise((r) => socket.waiters.push(r)));
  socket.opened = new Promise((r, j) => {
    socket.on("open", r);
    socket.on("unexpected-response", (_q, res) => j(new Error(`HTTP ${res.statusCode}`)));
  });
  return socket;
}

describe("Engine.IO behaviours", () => {
  before(startConformance);
  after(stopConformance);

  it("handshake over polling has exactly the five fields", async () => {
    const hs = await open();
    assert.deepEqual(Object.keys(hs).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    assert.deepEqual(hs.upgrades, ["websocket"]);
    assert.equal(hs.maxPayload, 1000000);
  });

  it("answers bad queries and unknown sids with 400 and the reference error codes", async () => {
    const cases = [
      ["/engine.io/?transport=polling", 5],
      ["/engine.io/?EIO=3&transport=polling", 5],
      ["/engine.io/?EIO=4", 0],
      ["/engine.io/?EIO=4&transport=flash", 0],
      ["/engine.io/?EIO=4&transport=polling&sid=doesnotexist", 1],
    ];
    for (const [path, code] of cases) {
      const res = await fetch(base + path);
      assert.equal(res.status, 400, path);
      assert.equal((await res.json()).code, code, path);
    }
    const res = await fetch(`${base}${EIO}&transport=polling`, { method: "POST", body: "4x" });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, 2);
  });

  it("round-trips text and binary packets over polling (binary as b<base64>)", async () => {
    const { sid } = await open();
    assert.equal(await (await post(sid, "4hello\x1ebAQIDBA==\x1e4\u00e9t\u00e9")).text(), "ok");
    assert.equal(await (await poll(sid)).text(), "4hello\x1ebAQIDBA==\x1e4\u00e9t\u00e9");
  });

  it("closes the session on a malformed packet", async () => {
    for (const body of ["abc", "4ok\x1e9bad", "b!!!notbase64"]) {
      const { sid } = await open();
      const res = await post(sid, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((await poll(sid)).status, 400);
    }
  });

  it("a duplicate GET ends the session: the first gets a close packet, the second 400", async () => {
    const { sid } = await open();
    const first = poll(sid);
    await sleep(20);
    const second = await poll(sid, "&t=dup");
    assert.equal(second.status, 400);
    const r1 = await first;
    assert.equal(r1.status, 200);
    assert.equal(await r1.text(), "1");
    assert.equal((await poll(sid)).status, 400);
  });

  it("a cancelled GET ends the session", async () => {
    const { sid } = await open();
    const controller = new AbortController();
    const p = fetch(`${base}${EIO}&transport=polling&sid=${sid}`, { signal: controller.signal }).catch(() => "aborted");
    await sleep(20);
    controller.abort();
    await p;
    await sleep(50);
    assert.equal((await poll(sid)).status, 400);
  });

  it("pings every pingInterval and closes after pingTimeout without a pong", async () => {
    const { sid } = await open();
    const t0 = Date.now();
    assert.equal(await (await poll(sid)).text(), "2");
    assert.ok(Date.now() - t0 >= 250);
    assert.equal((await post(sid, "3")).status, 200);
    assert.equal(await (await poll(sid)).text(), "2");
    await sleep(300); // no pong
    assert.equal((await poll(sid)).status, 400);
  });

  it("a client ping is a protocol error", async () => {
    const socket = ws(`${wsBase}${EIO}&transport=websocket`);
    await socket.next();
    socket.send("2");
    await socket.closed;
  });

  it("rejects an oversized POST with 413 and an empty body", async () => {
    const { sid } = await open();
    const res = await post(sid, "4" + "x".repeat(1_000_001));
    assert.equal(res.status, 413);
    assert.equal(await res.text(), "");
  });

  it("closes a WebSocket with 1009 on an oversized frame", async () => {
    const socket = ws(`${wsBase}${EIO}&transport=websocket`);
    await socket.next();
    socket.send("4" + "x".repeat(1_000_001));
    assert.equal(await socket.closed, 1009);
  });

  it("upgrades: probe, noop to the pending GET, then traffic over WebSocket and polling refused", async () => {
    const { sid } = await open();
    const pending = poll(sid);
    await sleep(20);
    const socket = ws(`${wsBase}${EIO}&transport=websocket&sid=${sid}`);
    await socket.opened;
    socket.send("2probe");
    assert.equal(await socket.next(), "3probe");
    const r = await pending;
    assert.equal(await r.text(), "6");
    socket.send("5");
    socket.send("4after");
    assert.equal(await socket.next(), "4after");
    assert.equal((await poll(sid)).status, 400);
    const second = ws(`${wsBase}${EIO}&transport=websocket&sid=${sid}`);
    await second.closed;
    socket.send("4still");
    assert.equal(await socket.next(), "4still");
    socket.close();
  });

  it("WebSocket protocol: pings are answered, fragments reassembled, bad frames closed with the RFC codes", async () => {
    const a = ws(`${wsBase}${EIO}&transport=websocket`);
    await a.next();
    const pong = new Promise((r) => a.once("pong", (d) => r(d.toString())));
    a.ping("hi");
    assert.equal(await pong, "hi");
    a.send("4frag", { fin: false });
    a.send("mented", { fin: true });
    assert.equal(await a.next(), "4fragmented");
    a.send(Buffer.from([0x34, 0xc0, 0xaf]), { binary: false }); // "4" + overlong UTF-8
    assert.equal(await a.closed, 1007);

    // an unmasked client frame, over a raw socket
    const raw = net.connect(Number(new URL(base).port), "127.0.0.1");
    await new Promise((r) => raw.once("connect", r));
    raw.write(`GET ${EIO}&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    let buf = Buffer.alloc(0);
    raw.on("data", (d) => (buf = Buffer.concat([buf, d])));
    await until(() => buf.includes("\r\n\r\n"), 2000, "101");
    assert.match(buf.toString("latin1"), /^HTTP\/1\.1 101[^]*Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    buf = Buffer.alloc(0);
    raw.write(Buffer.from([0x81, 0x02, 0x34, 0x78])); // "4x", not masked
    const closedRaw = new Promise((r) => raw.once("close", r));
    await until(() => buf.includes(Buffer.from([0x88, 0x02, 0x03, 0xea])), 2000, "close 1002"); // 1002
    raw.destroy();
    await closedRaw;

    // a WebSocket version we do not speak
    const old = net.connect(Number(new URL(base).port), "127.0.0.1");
    let answer = "";
    old.on("data", (d) => (answer += d.toString("latin1")));
    old.write(`GET ${EIO}&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    await until(() => answer.includes("\r\n\r\n"), 2000, "426");
    assert.match(answer, /^HTTP\/1\.1 426 [^]*Sec-WebSocket-Version: 13/);
    old.destroy();
  });

  it("a WebSocket with an unknown sid is refused", async () => {
    const socket = ws(`${wsBase}${EIO}&transport=websocket&sid=nope`);
    await assert.rejects(socket.opened, /HTTP 400/);
  });
});

describe("Socket.IO behaviours", () => {
  before(startConformance);
  after(stopConformance);

  async function sio() {
    const socket = ws(`${wsBase}/socket.io/?EIO=4&transport=websocket`);
    await socket.next();
    return socket;
  }

  it("unknown namespace → CONNECT_ERROR Invalid namespace", async () => {
    const s = await sio();
    s.send("40/nope,");
    assert.equal(await s.next(), '44/nope,{"message":"Invalid namespace"}');
    s.close();
  });

  it("binary event with attachments is reassembled and echoed", async () => {
    const s = await sio();
    s.send("40");
    assert.match(await s.next(), /^40\{"sid":"[^"]+"\}$/);
    assert.equal(await s.next(), '42["auth",{}]');
    s.send('451-["message",{"_placeholder":true,"num":0}]');
    s.send(Buffer.from([9, 8, 7]));
    assert.equal(await s.next(), '451-["message-back",{"_placeholder":true,"num":0}]');
    assert.deepEqual([...(await s.next())], [9, 8, 7]);
    s.close();
  });

  for (const bad of ["4abc", "42{}", '42abc["x"]', "47", "42/custom", "42[1]", '452-["x"]', "40[]"]) {
    it(`closes the connection on malformed packet ${JSON.stringify(bad)}`, async () => {
      const s = await sio();
      s.send("40");
      await s.next();
      await s.next();
      s.send(bad);
      if (bad === '452-["x"]') s.send("42[\"text-while-waiting\"]");
      await s.closed;
    });
  }

  it("closes a session that joins no namespace within connectTimeout", async () => {
    const s = ws(`${wsBase}/socket.io/?EIO=4&transport=websocket`);
    await s.next();
    const t0 = Date.now();
    // answer pings so only the connect timeout can end it
    s.on("message", (d) => d.toString() === "2" && s.send("3"));
    await s.closed;
    assert.ok(Date.now() - t0 >= 900, `closed after ${Date.now() - t0} ms`);
  });
});
