// TLS on the gateway's own port (--tls-cert/--tls-key): the stock socket.io-client over HTTPS
// long-polling, the polling→WSS upgrade and WSS only, trusting a test CA made here with the
// openssl CLI; TLS 1.2+ only; a certificate reloaded on SIGHUP without dropping connections; a bad
// reload keeps the current certificate; plaintext and silent clients cost nothing lasting.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { tmpdir } from "node:os";
import path from "node:path";
import { io } from "socket.io-client";
import { startGateway, userToken, request, until, once, API_KEY, assertSubscribed } from "./harness.mjs";

const dir = mkdtempSync(path.join(tmpdir(), "fg-tls-"));
const file = (n) => path.join(dir, n);
const openssl = (...args) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

// A CA, and two server certificates it signed for localhost/127.0.0.1 (serials 1001 and 1002).
function makePki() {
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", file("ca.key"),
    "-out", file("ca.pem"), "-days", "2", "-subj", "/CN=fulfillment-gateway test CA");
  writeFileSync(file("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  for (const [name, serial] of [["a", "1001"], ["b", "1002"]]) {
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", file(`${name}.key`),
      "-out", file(`${name}.csr`), "-subj", "/CN=localhost");
    openssl("x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-set_serial", serial,
      "-out", file(`${name}.pem`), "-days", "2", "-extfile", file("ext.cnf"));
  }
}

function peerCertificate(port, options = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca: readFileSync(file("ca.pem")), servername: "localhost", ...options }, () => {
      const cert = s.getPeerCertificate();
      const version = s.getProtocol();
      s.end();
      resolve({ serial: cert.serialNumber, version });
    });
    s.once("error", reject);
  });
}

function httpsRequest(port, method, pathname, body) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: "localhost", port, method, path: pathname, ca: readFileSync(file("ca.pem")),
      headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
    }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode, body: data }));
    });
    req.once("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("TLS", () => {
  let gw;
  const sockets = [];
  const connect = (token, opts = {}) => {
    const socket = io(`https://localhost:${gw.port}/fulfillment`, {
      auth: { token }, reconnection: false, forceNew: true, ca: readFileSync(file("ca.pem")), ...opts,
    });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once("connect", () => resolve(socket));
      socket.once("connect_error", reject);
    });
  };
  const publish = async (orderId, n) => {
    const r = await httpsRequest(gw.port, "POST", "/api/v1/events", { event: "fulfillment:status-change", data: { orderId, status: "created", n } });
    assert.equal(r.status, 202, r.body);
  };

  before(async () => {
    makePki();
    copyFileSync(file("a.pem"), file("server.pem"));
    copyFileSync(file("a.key"), file("server.key"));
    gw = await startGateway({ args: ["--tls-cert", file("server.pem"), "--tls-key", file("server.key"), "--header-timeout", "1"], env: { LOG_LEVEL: "info" } });
    const r = await httpsRequest(gw.port, "PUT", "/api/v1/orders/ord-tls-1", { userId: "tls-user" });
    assert.equal(r.status, 201, r.body);
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await gw.stop();
    gw.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the stock client works over HTTPS polling, the upgrade to WSS, and WSS alone", async () => {
    const polling = await connect(userToken("tls-user"), { transports: ["polling"] });
    const upgraded = await connect(userToken("tls-user"));
    const wsOnly = await connect(userToken("tls-user"), { transports: ["websocket"] });
    await until(() => upgraded.io.engine.transport.name === "websocket", 5000, "upgrade to WSS");
    assert.equal(polling.io.engine.transport.name, "polling");
    for (const s of [polling, upgraded, wsOnly]) assertSubscribed(await request(s, "subscribe:order", { orderId: "ord-tls-1" }), "ord-tls-1");
    const got = [polling, upgraded, wsOnly].map((s) => {
      const seen = [];
      s.on("fulfillment:status-change", (d) => seen.push(d.n));
      return seen;
    });
    for (let n = 0; n < 5; n++) await publish("ord-tls-1", n);
    await until(() => got.every((g) => g.length === 5), 5000, "five events on each");
    for (const g of got) assert.deepEqual(g, [0, 1, 2, 3, 4]);
  });

  it("speaks TLS 1.2 and 1.3, never 1.1 or below, and nothing in plaintext", async () => {
    assert.equal((await peerCertificate(gw.port, { maxVersion: "TLSv1.2" })).version, "TLSv1.2");
    assert.equal((await peerCertificate(gw.port)).version, "TLSv1.3");
    await assert.rejects(peerCertificate(gw.port, { minVersion: "TLSv1", maxVersion: "TLSv1.1" }));
    const plain = await fetch(`http://127.0.0.1:${gw.port}/healthz`).then((r) => r.status, (e) => e.name);
    assert.notEqual(plain, 200, "no plaintext answer on a TLS port");
  });

  it("a silent client is closed after --header-timeout", async () => {
    const sock = net.connect(gw.port, "127.0.0.1");
    const closed = await new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), 5000);
      sock.once("close", () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    assert.ok(closed, "closed within the handshake timeout");
  });

  it("SIGHUP reloads the certificate for new connections without dropping established ones; a bad file keeps the current one", async () => {
    assert.equal((await peerCertificate(gw.port)).serial, "03E9"); // 1001
    const live = await connect(userToken("tls-user"), { transports: ["websocket"] });
    assertSubscribed(await request(live, "subscribe:order", { orderId: "ord-tls-1" }), "ord-tls-1");
    let dropped = false;
    live.on("disconnect", () => (dropped = true));

    copyFileSync(file("b.pem"), file("server.pem"));
    copyFileSync(file("b.key"), file("server.key"));
    gw.child.kill("SIGHUP");
    await until(async () => (await peerCertificate(gw.port)).serial === "03EA", 5000, "the new certificate (1002)");
    assert.match(gw.stderr(), /TLS certificate reloaded/);

    const seen = [];
    live.on("fulfillment:status-change", (d) => seen.push(d.n));
    await publish("ord-tls-1", 42);
    await until(() => seen.includes(42), 5000, "an event on the connection made before the reload");
    assert.equal(dropped, false);

    writeFileSync(file("server.pem"), "not a certificate\n");
    gw.child.kill("SIGHUP");
    await until(() => /TLS certificate was not reloaded/.test(gw.stderr()), 5000, "the failed reload logged");
    assert.equal((await peerCertificate(gw.port)).serial, "03EA", "still the last good certificate");
    assert.ok(live.connected);
  });
});
