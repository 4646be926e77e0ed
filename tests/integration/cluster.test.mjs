// Several gateway nodes on one PostgreSQL and one Redis (fresh instances, loopback, free ports):
// cross-node delivery exactly once and in order, ownership across nodes, cluster-wide figures,
// Redis and PostgreSQL outages, the fulfillment flow spread over nodes, and a node killed mid-job.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { API_KEY, userToken, adminToken, request, until, sleep, spawnReady, assertNoSanitizerReport, assertSubscribed, metricValue } from "./harness.mjs";
import { Services, startCluster, startNginx } from "./cluster_harness.mjs";
import { io } from "socket.io-client";
import { WebSocket } from "ws";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { createClient } from "redis";
import { Emitter } from "@socket.io/redis-emitter";

const STATUS = "fulfillment:status-change";

// Every STATUS event a socket gets, as the `i` of its data.
function numbers(socket) {
  const got = [];
  socket.on(STATUS, (d) => got.push(d.i));
  return got;
}
const range = (n) => Array.from({ length: n }, (_, i) => i);

// `n` of alice's stock clients through the balancer (the transports of `kinds` in turn: polling
// only, the upgrade, websocket only), reconnecting fast, each subscribed to `orderId`:
// {socket, got (the i of each event), recoveries}.
const TRANSPORTS = { polling: ["polling"], upgrade: undefined, websocket: ["websocket"] };
async function subscribers(lb, sockets, orderId, n, kinds = ["polling", "upgrade", "websocket"]) {
  const clients = [];
  for (let k = 0; k < n; k++) {
    const socket = io(`${lb.url}/fulfillment`, {
      auth: { token: userToken("alice") }, forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 300,
      transports: TRANSPORTS[kinds[k % kinds.length]],
    });
    sockets.push(socket);
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    assertSubscribed(await request(socket, "subscribe:order", { orderId }), orderId);
    const c = { socket, got: numbers(socket), recoveries: 0 };
    socket.on("connect", () => socket.recovered && c.recoveries++);
    clients.push(c);
  }
  return clients;
}

describe("cluster", () => {
  let services;
  before(() => {
    services = new Services();
  });
  after(() => services?.stop());

  it("delivers an event published on any node to every allowed socket on every node, once, in publish order", async () => {
    const cluster = await startCluster(services, 3);
    const [a, b, c] = cluster.nodes;
    try {
      await a.registerOrder("x-1", "alice");
      const alice = await b.connect(userToken("alice"));
      assertSubscribed(await request(alice, "subscribe:order", { orderId: "x-1" }), "x-1");
      const mallory = await a.connect(userToken("mallory"));
      const refused = await request(mallory, "subscribe:order", { orderId: "x-1" });
      assert.equal(refused.ok, false, "another user's order stays refused on every node");
      const admin = await c.connect(adminToken());
      const toAlice = numbers(alice);
      const toAdmin = numbers(admin);
      const toMallory = numbers(mallory);
      // Publishers on two nodes in turn: the order they were accepted in is the order delivered.
      const N = 60;
      for (const i of range(N)) await (i % 2 ? a : c).publish(STATUS, { orderId: "x-1", status: "processing", i });
      await until(() => toAlice.length >= N && toAdmin.length >= N, 10000, "every event on every node");
      await sleep(300);  // anything extra would show now
      assert.deepEqual(toAlice, range(N), "the owner on node 2: each once, in order");
      assert.deepEqual(toAdmin, range(N), "the admin on node 3: each once, in order");
      assert.deepEqual(toMallory, [], "nothing to a user who does not own the order");
      // The figures count every node's sockets.
      await until(async () => (await request(admin, "admin:get-connections")).nodes?.length === 3, 8000, "3 nodes in the figures");
      const stats = await request(admin, "admin:get-connections");
      assert.equal(stats.totalConnected, 3);
      assert.equal(stats.admins, 1);
      assert.equal(stats.users, 2);
      assert.deepEqual(stats.nodes.map((n) => n.nodeId).sort(), ["node-1", "node-2", "node-3"]);
      assert.equal(stats.node.nodeId, "node-3");
      assert.equal(stats.node.totalConnected, 1);
      assert.equal(stats.nodes.find((n) => n.nodeId === "node-2").users, 1);
    } finally {
      await cluster.stop();
    }
  });

  it("no sticky sessions: behind round-robin nginx the stock client works with polling, the upgrade, and websocket only", async () => {
    const cluster = await startCluster(services, 3);
    const lb = await startNginx(services, cluster.nodes);
    const sockets = [];
    try {
      await cluster.nodes[0].registerOrder("x-9", "alice");
      const forwarded = async (kind) => {
        let n = 0;
        for (const g of cluster.nodes) n += metricValue(await g.metrics(), "fg_cluster_forwards_total", { kind, outcome: "forwarded" });
        return n;
      };
      const variants = { polling: { transports: ["polling"] }, upgrade: {}, websocket: { transports: ["websocket"] } };
      const got = {};
      for (const [name, opts] of Object.entries(variants)) {
        const socket = io(`${lb.url}/fulfillment`, { auth: { token: userToken("alice") }, reconnection: false, forceNew: true, ...opts });
        sockets.push(socket);
        await new Promise((resolve, reject) => {
          socket.once("connect", resolve);
          socket.once("connect_error", reject);
        });
        assertSubscribed(await request(socket, "subscribe:order", { orderId: "x-9" }), "x-9");
        got[name] = numbers(socket);
        if (name === "upgrade") await until(() => socket.io.engine.transport.name === "websocket", 5000, "the upgrade");
      }
      const N = 30;
      for (const i of range(N)) await cluster.nodes[i % 3].publish(STATUS, { orderId: "x-9", status: "processing", i });
      await until(() => Object.values(got).every((g) => g.length >= N), 10000, "every client's events");
      await sleep(300);
      for (const [name, g] of Object.entries(got)) assert.deepEqual(g, range(N), `${name}: each event once, in order`);
      // The requests of one session really did land on several nodes, and were passed to its owner.
      assert.ok((await forwarded("poll")) >= 3, "polls forwarded to the session's node");
      for (const g of cluster.nodes) {
        const m = await g.metrics();
        assert.ok(metricValue(m, "fg_http_requests_total") + metricValue(m, "fg_cluster_forwards_total") > 0, `node ${g.port} served requests`);
      }
      assert.equal(sockets[0].io.engine.transport.name, "polling");
      assert.equal(sockets[2].io.engine.transport.name, "websocket");
    } finally {
      for (const s of sockets) s.disconnect();
      await lb.stop();
      await cluster.stop();
    }
  });

  it("a session's requests are served on any node: polls forwarded, the WebSocket upgrade tunnelled to its owner", async () => {
    const cluster = await startCluster(services, 3);
    const [a, b, c] = cluster.nodes;
    try {
      const open = await (await fetch(`${a.url}/socket.io/?EIO=4&transport=polling`)).text();
      const sid = JSON.parse(open.slice(1)).sid;
      assert.match(sid, /^[A-Za-z0-9_-]{8}\./, "the sid names its node by tag");
      const token = userToken("alice");
      const post = await fetch(`${b.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: `40/fulfillment,${JSON.stringify({ token })}` });
      assert.equal(post.status, 200, "a POST on node 2 reaches node 1's session");
      const get = await (await fetch(`${c.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`)).text();
      assert.match(get, /^40\/fulfillment,\{"sid":/, "node 3 answers with node 1's CONNECT ack");
      // The upgrade on node 2: the probe is answered by node 1's session, through the tunnel.
      const ws = new WebSocket(`${b.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
      const frames = [];
      ws.on("message", (d) => frames.push(d.toString()));
      await new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
      ws.send("2probe");
      await until(() => frames.includes("3probe"), 5000, "3probe through the tunnel");
      ws.send("5");
      await a.registerOrder("x-10", "alice");
      ws.send(`42/fulfillment,0${JSON.stringify(["subscribe:order", { orderId: "x-10" }])}`);
      await until(() => frames.some((f) => f.startsWith("43/fulfillment,0")), 5000, "the subscribe ack over the tunnel");
      await c.publish(STATUS, { orderId: "x-10", status: "processing", i: 1 });
      await until(() => frames.some((f) => f.includes(STATUS)), 5000, "an event over the tunnel");
      assert.equal(metricValue(await b.metrics(), "fg_cluster_forwards_total", { kind: "websocket", outcome: "forwarded" }), 1);
      ws.close();
      // Made-up node tags cost a store read each at most 20 times a second, then are unknown at once.
      const forged = [];
      const began = Date.now();
      for (let k = 0; k < 100; k++) {
        const tag = Buffer.from(Math.random().toString()).toString("base64url").slice(0, 8);
        forged.push(await fetch(`${b.url}/socket.io/?EIO=4&transport=polling&sid=${tag}.${sid.split(".")[1]}`));
      }
      assert.ok(forged.every((r) => r.status === 400), "each one is an unknown session");
      const reads = metricValue(await b.metrics(), "fg_cluster_node_lookups_total");
      const bound = Math.min(99, 20 + Math.ceil((20 * (Date.now() - began)) / 1000) + 1);  // burst + rate × time
      assert.ok(reads >= 1 && reads <= bound, `store reads of unannounced tags are bounded (${reads} for 100, at most ${bound})`);
      // A sid of a node nobody knows is unknown everywhere.
      const bad = await fetch(`${b.url}/socket.io/?EIO=4&transport=polling&sid=AAAAAAAA.${sid.split(".")[1]}`);
      assert.equal(bad.status, 400);
      assert.deepEqual(await bad.json(), { code: 1, message: "Session ID unknown" });
    } finally {
      await cluster.stop();
    }
  });

  it("node loss: kill -9 a node, its clients recover on the others with every event once, in order", async () => {
    const cluster = await startCluster(services, 3);
    const lb = await startNginx(services, cluster.nodes);
    const sockets = [];
    try {
      const tagOf = (id) => createHash("sha256").update(`fulfillment-gateway node ${id}`).digest().subarray(0, 6).toString("base64url");
      const nodeOf = (socket) => ["node-1", "node-2", "node-3"].findIndex((id) => socket.io.engine.id.startsWith(`${tagOf(id)}.`));
      await cluster.nodes[0].registerOrder("x-11", "alice");
      const clients = (await subscribers(lb, sockets, "x-11", 9)).map((c) => ({ ...c, node: nodeOf(c.socket) }));
      // The victim: the node holding client 0; the publisher: another one.
      const victim = clients[0].node;
      assert.ok(victim >= 0, "the sid names its node");
      const onVictim = clients.filter((c) => c.node === victim);
      const publisher = cluster.nodes[(victim + 1) % 3];
      const N = 60;
      for (const i of range(N)) {
        if (i === 20) await cluster.nodes[victim].stop("SIGKILL");
        await publisher.publish(STATUS, { orderId: "x-11", status: "processing", i });
        await sleep(20);
      }
      await until(() => clients.every((c) => c.got.length >= N), 20000, "every client's events").catch((e) => {
        for (const [k, c] of clients.entries())
          console.log(k, c.node, nodeOf(c.socket), c.socket.connected, c.socket.recovered, c.got.length, JSON.stringify(c.got.slice(15, 30)));
        throw e;
      });
      await sleep(300);
      for (const [k, c] of clients.entries()) assert.deepEqual(c.got, range(N), `client ${k} (node ${c.node + 1}): each event once, in order`);
      for (const c of onVictim) {
        assert.equal(c.socket.connected, true);
        assert.equal(c.socket.recovered, true, "recovered on another node");
        assert.notEqual(nodeOf(c.socket), victim);
      }
    } finally {
      for (const s of sockets) s.disconnect();
      await lb.stop();
      await cluster.stop();
    }
  });

  it("SIGTERM drains a node: not ready, sessions closed over the drain time and recovered elsewhere, exit 0; a rolling restart loses nothing", async () => {
    const cluster = await startCluster(services, 3, { env: { DRAIN_SECONDS: "2", LOG_LEVEL: process.env.FG_DEBUG_DRAIN ? "info" : "warn" } });
    const all = [...cluster.nodes];
    const lb = await startNginx(services, cluster.nodes);
    const sockets = [];
    try {
      await cluster.nodes[0].registerOrder("x-12", "alice");
      // Polling-only clients too: their polls land on every node, and a forwarding node that exits
      // mid-poll must not make the balancer retry it elsewhere (deploy/nginx.conf, @session).
      const clients = await subscribers(lb, sockets, "x-12", 9);
      // Events flow all along, published to a node that is not restarting at the moment (a publish
      // cut off by an exit could not say whether it was accepted; a draining node refuses: 503).
      let i = 0;
      let target = 1;
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          const res = await cluster.nodes[target].api("POST", "/api/v1/events", { event: STATUS, data: { orderId: "x-12", status: "processing", i } });
          if (res.status === 202) i++;
          else throw new Error(`publish ${i}: ${res.status}`);
          await sleep(15);
        }
      })();
      // One drain, watched closely.
      const first = cluster.nodes[0];
      const exited = new Promise((r) => first.child.once("exit", (code) => r(code)));
      first.child.kill("SIGTERM");
      await until(async () => (await fetch(`${first.url}/readyz`).catch(() => ({ status: 0 }))).status === 503, 2000, "not ready while draining");
      const handshake = await fetch(`${first.url}/socket.io/?EIO=4&transport=polling`).catch(() => ({ status: 0 }));
      assert.ok(handshake.status === 503 || handshake.status === 0, "no new session on a draining node");
      const refused = await first.api("POST", "/api/v1/events", { event: STATUS, data: { orderId: "x-12", status: "processing" } }).catch(() => null);
      if (refused) assert.equal(refused.status, 503, "a draining node accepts no change");
      assert.equal(await exited, 0, "exit 0 after the drain");
      all.push(await cluster.restart(0));
      // Then the rest of a rolling restart.
      for (const k of [1, 2]) {
        target = (k + 1) % 3;
        await sleep(50);  // the publish in flight to the node about to restart lands first
        const node = cluster.nodes[k];
        const done = new Promise((r) => node.child.once("exit", (code) => r(code)));
        node.child.kill("SIGTERM");
        assert.equal(await done, 0);
        all.push(await cluster.restart(k));
      }
      await sleep(500);
      publishing = false;
      await publisher;
      const N = i;
      assert.ok(N > 50, `events published during the restarts (${N})`);
      await until(() => clients.every((c) => c.got.length >= N), 20000, "every client's events").catch((e) => {
        for (const [k, c] of clients.entries()) {
          const missing = range(N).filter((x) => !c.got.includes(x));
          console.log(`client ${k}: ${c.got.length}/${N} connected=${c.socket.connected} recoveries=${c.recoveries} missing=${missing.slice(0, 20)} id=${c.socket.id} transport=${c.socket.io.engine?.transport?.name}`);
        }
        for (const g of all) console.log(g.stderr().split("\n").filter((l) => /recover|warn|error/.test(l)).join("\n"));
        throw e;
      });
      await sleep(300);
      for (const [k, c] of clients.entries()) assert.deepEqual(c.got, range(N), `client ${k}: each event once, in order`);
      assert.ok(clients.every((c) => c.socket.connected));
      assert.ok(clients.filter((c) => c.recoveries > 0).length >= 3, "the drained nodes' clients recovered elsewhere");
    } finally {
      for (const s of sockets) s.disconnect();
      await lb.stop();
      await cluster.stop();
    }
  });

  it("reassigning an order on one node revokes it and refreshes ownership on every node", async () => {
    const cluster = await startCluster(services, 3);
    const [a, b, c] = cluster.nodes;
    try {
      await a.registerOrder("x-2", "alice");
      const alice = await b.connect(userToken("alice"));
      assertSubscribed(await request(alice, "subscribe:order", { orderId: "x-2" }), "x-2");  // caches alice on node 2
      const bob = await c.connect(userToken("bob"));
      assert.equal((await request(bob, "subscribe:order", { orderId: "x-2" })).ok, false);  // node 3 knows alice owns it
      const toAlice = numbers(alice);
      const toBob = numbers(bob);
      await a.publish(STATUS, { orderId: "x-2", status: "processing", i: 0 });
      await until(() => toAlice.length === 1, 5000, "alice's first event");

      // The PUT answers once every node has forgotten the old owner: what a client asks any node
      // right after it already sees the new one (no waiting, no retry).
      const res = await a.api("PUT", "/api/v1/orders/x-2", { userId: "bob" });
      assert.equal(res.status, 200);
      assert.equal((await request(bob, "subscribe:order", { orderId: "x-2" })).ok, true, "bob may subscribe on node 3 at once");
      assert.equal((await request(alice, "subscribe:order", { orderId: "x-2" })).ok, false, "alice refused on node 2 at once");
      await a.publish(STATUS, { orderId: "x-2", status: "processing", i: 1 });
      await until(() => toBob.length === 1, 5000, "bob's event");
      await sleep(300);
      assert.deepEqual(toAlice, [0], "nothing after the reassignment reaches the old owner");
      assert.deepEqual(toBob, [1]);
      // Back and forth, each time asked at once on the nodes that cached the previous owner.
      for (let k = 0; k < 10; k++) {
        const [from, to] = k % 2 === 0 ? [bob, alice] : [alice, bob];
        const writer = cluster.nodes[k % 3];
        assert.equal((await writer.api("PUT", "/api/v1/orders/x-2", { userId: k % 2 === 0 ? "alice" : "bob" })).status, 200);
        assert.equal((await request(to, "subscribe:order", { orderId: "x-2" })).ok, true, `flip ${k}: the new owner at once`);
        assert.equal((await request(from, "subscribe:order", { orderId: "x-2" })).ok, false, `flip ${k}: the old owner refused at once`);
      }
      // An order created on one node is known at once on another that had looked for it before.
      const carol = await c.connect(userToken("carol"));
      assert.equal((await request(carol, "subscribe:order", { orderId: "x-3" })).ok, false);  // unknown: remembered as missing
      await b.registerOrder("x-3", "carol");
      assert.equal((await request(carol, "subscribe:order", { orderId: "x-3" })).ok, true, "carol's new order on node 3 at once");
      // Each write waited for every node's acknowledgement, none ran out of time.
      let acked = 0;
      for (const g of cluster.nodes) {
        const m = await g.metrics();
        acked += metricValue(m, "fg_cluster_owner_waits_total", { outcome: "acknowledged" });
        assert.equal(metricValue(m, "fg_cluster_owner_waits_total", { outcome: "timeout" }), 0);
      }
      assert.ok(acked >= 13, `owner writes acknowledged: ${acked}`);

      // A subscriber that never answers (here a bare redis-cli on fg:log, as a stuck node would be)
      // holds a write back at most 2 s: then it answers, logged and counted as a timeout.
      const port = new URL(services.redisUrl).port;
      const listener = spawn("redis-cli", ["-p", port, "SUBSCRIBE", "fg:log"], { stdio: ["ignore", "pipe", "ignore"] });
      try {
        await new Promise((resolve) => listener.stdout.once("data", resolve));
        const t0 = Date.now();
        assert.equal((await a.api("PUT", "/api/v1/orders/x-2", { userId: "carol" })).status, 200);
        const waited = Date.now() - t0;
        assert.ok(waited >= 1500 && waited < 5000, `waited ${waited} ms`);
        assert.equal(metricValue(await a.metrics(), "fg_cluster_owner_waits_total", { outcome: "timeout" }), 1);
      } finally {
        listener.kill();
      }
    } finally {
      await cluster.stop();
    }
  });

  it("a Redis restart mid-stream loses nothing: the nodes fill the gap from the store", async () => {
    const cluster = await startCluster(services, 2);
    const [a, b] = cluster.nodes;
    try {
      await a.registerOrder("x-4", "alice");
      const alice = await b.connect(userToken("alice"));
      assertSubscribed(await request(alice, "subscribe:order", { orderId: "x-4" }), "x-4");
      const got = numbers(alice);
      const N = 90;
      for (const i of range(N)) {
        if (i === 30) services.run("stop-redis");     // node 1 publishes into the void
        if (i === 45) {
          // An owner write with no Redis: nobody to wait for (every node caches no owner meanwhile).
          const t0 = Date.now();
          assert.equal((await a.api("PUT", "/api/v1/orders/x-4b", { userId: "bob" })).status, 201);
          assert.ok(Date.now() - t0 < 1500, "not held back waiting for acknowledgements");
        }
        if (i === 60) services.run("restart-redis");  // and reconnects with backoff
        await a.publish(STATUS, { orderId: "x-4", status: "processing", i });
        await sleep(10);
      }
      await until(() => got.length >= N, 15000, `all ${N} events on node 2 (got ${got.length})`);
      await sleep(500);
      assert.deepEqual(got, range(N), "each event once, in order, across the outage");
      // How: what Redis could not carry, node 2 read from the store.
      assert.ok(metricValue(await b.metrics(), "fg_cluster_filled_events_total") >= 30, "events 30..59 came from the store");
      assert.ok(metricValue(await a.metrics(), "fg_cluster_messages_total", { outcome: "dropped" }) >= 1);
      // The events may all have come from the store while node 2 was still backing off (up to 2 s).
      await until(async () => metricValue(await b.metrics(), "fg_cluster_redis_up") === 1, 5000, "subscribed again");
      // Redis is back: delivery is live again.
      await a.publish(STATUS, { orderId: "x-4", status: "processing", i: N });
      await until(() => got.length === N + 1, 5000, "the event after the outage");
    } finally {
      services.run("restart-redis");  // up again for the next tests, should an assertion have failed mid-outage
      await cluster.stop();
    }
  });

  it("PostgreSQL down: publishing answers 503, sockets stay connected, service resumes by itself", async () => {
    const cluster = await startCluster(services, 2);
    const [a, b] = cluster.nodes;
    try {
      await a.registerOrder("x-5", "alice");
      const alice = await b.connect(userToken("alice"));
      assertSubscribed(await request(alice, "subscribe:order", { orderId: "x-5" }), "x-5");
      const got = numbers(alice);
      await a.publish(STATUS, { orderId: "x-5", status: "processing", i: 0 });
      await until(() => got.length === 1, 5000, "before the outage");

      services.run("stop-postgres");
      const down = await a.api("POST", "/api/v1/events", { event: STATUS, data: { orderId: "x-5", status: "processing", i: 99 } });
      assert.equal(down.status, 503, "nothing accepted that is not durable");
      const ipn = await a.ipn({ payment_id: 1, payment_status: "finished", order_id: "x-5", actually_paid: 1, pay_currency: "eth" });
      assert.equal(ipn.status, 503, "the payment provider retries later");
      assert.equal(alice.connected, true, "sockets stay connected");

      services.run("restart-postgres");
      await until(async () => (await a.api("POST", "/api/v1/events", { event: STATUS, data: { orderId: "x-5", status: "processing", i: 1 } })).status === 202,
        15000, "publishing again");
      await until(() => got.length === 2, 5000, "the event after the outage");
      assert.deepEqual(got, [0, 1], "the refused event was never delivered");
      assert.equal(alice.connected, true);
    } finally {
      services.run("restart-postgres");  // up again for the next tests, should an assertion have failed mid-outage
      await cluster.stop();
    }
  });

  it("the fulfillment flow across nodes: order on one, payment on another, shopper on a third", async () => {
    const cluster = await startCluster(services, 3);
    const [a, b, c] = cluster.nodes;
    try {
      const token = userToken("shopper-1");
      const order = await a.createOrder(token, [{ productId: "game-1", quantity: 1 }, { productId: "game-2", quantity: 1 }]);
      const shopper = await c.connect(token);
      assertSubscribed(await request(shopper, "subscribe:order", { orderId: order.orderId }), order.orderId);
      const got = [];
      for (const n of ["payment:confirmed", "fulfillment:key-delivered", STATUS]) shopper.on(n, (d) => got.push({ n, d }));
      const ipn = await b.ipn({ payment_id: 4242, payment_status: "finished", order_id: order.orderId, actually_paid: 1, pay_currency: "eth" });
      assert.equal(ipn.status, 200);
      await until(() => got.some((e) => e.n === STATUS && e.d.status === "fulfilled"), 20000, "fulfilled");
      assert.equal(got.filter((e) => e.n === "payment:confirmed").length, 1);
      const keys = got.filter((e) => e.n === "fulfillment:key-delivered");
      assert.equal(keys.length, 1, "the keys delivered once");
      assert.equal(keys[0].d.itemCount, 2);
      const names = got.map((e) => e.n);
      assert.ok(names.indexOf("payment:confirmed") < names.indexOf("fulfillment:key-delivered"), JSON.stringify(names));
      // Any node serves the keys, whichever node's worker sealed them.
      for (const node of [a, b, c]) {
        const snap = await (await node.get(`/api/v1/orders/${order.orderId}`, token)).json();
        assert.equal(snap.status, "fulfilled");
        for (const item of snap.items) {
          const r = await fetch(node.url + item.signedUrl);
          assert.equal(r.status, 200, `key from ${node.url}`);
          assert.match((await r.json()).key, /^[A-F0-9-]+$/);
        }
      }
    } finally {
      await cluster.stop();
    }
  });

  it("jobs: a node killed mid-job loses its lease and another node finishes, each key bought once", async () => {
    const sim = await spawnReady(["supplier-sim", "--host", "127.0.0.1", "--port", "0", "--latency", "150"], { LOG_LEVEL: "warn" });
    const simUrl = `http://127.0.0.1:${sim.port}`;
    const stats = async () => (await fetch(`${simUrl}/api/v1/stats`)).json();
    const cluster = await startCluster(services, 2, { env: { SUPPLIER_URL: simUrl, JOB_WORKERS: "2", JOB_LEASE_MS: "1500" } });
    const [a, b] = cluster.nodes;
    try {
      const N = 10;
      const orders = [];
      for (let i = 0; i < N; i++) {
        const token = userToken(`kill-${i}`);
        orders.push({ token, order: await a.createOrder(token, [{ productId: `k-${i}`, quantity: 1 }]) });
      }
      let pid = 8_000_000_000;
      for (const { order } of orders) {
        const r = await (pid % 2 ? a : b).ipn({ payment_id: pid++, payment_status: "finished", order_id: order.orderId, actually_paid: 1, pay_currency: "eth" });
        assert.equal(r.status, 200);
      }
      await until(async () => (await stats()).requests >= 3, 10000, "jobs running on both nodes");
      await a.stop("SIGKILL");
      for (const { token, order } of orders) {
        await until(async () => (await (await b.get(`/api/v1/orders/${order.orderId}`, token)).json()).status === "fulfilled", 30000,
          `order ${order.orderId} fulfilled by the surviving node`);
      }
      assert.equal((await stats()).purchases, N, "each order bought exactly once at the supplier");
      for (const { token, order } of orders) {
        const tl = await (await b.get(`/api/v1/orders/${order.orderId}/events`, token)).json();
        assert.equal(tl.events.filter((e) => e.event === "fulfillment:key-delivered").length, 1, "delivered once");
      }
    } finally {
      await cluster.stop();
      const exited = new Promise((r) => sim.child.once("exit", r));
      sim.child.kill("SIGTERM");
      await exited;
      assertNoSanitizerReport(sim.stderr());
    }
  });

  it("the official @socket.io/redis-emitter reaches what the same POST would, once, in the log (recovery covers it)", async () => {
    const cluster = await startCluster(services, 3, { env: { DRAIN_SECONDS: "1" } });
    const [a, b, c] = cluster.nodes;
    const redis = createClient({ url: services.redisUrl });
    await redis.connect();
    const sockets = [];
    let lb;
    try {
      // One node holds the lease and takes the emitter's messages into the log.
      await until(async () => {
        let holders = 0;
        for (const g of cluster.nodes) holders += metricValue(await g.metrics(), "fg_emitter_lease");
        return holders === 1;
      }, 10000, "one lease holder");
      await a.registerOrder("e-1", "alice");
      await a.registerOrder("e-2", "bob");
      const alice = await b.connect(userToken("alice"), { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
      assertSubscribed(await request(alice, "subscribe:order", { orderId: "e-1" }), "e-1");
      // bob through the balancer: when a node drains he goes on elsewhere (recovering his session).
      lb = await startNginx(services, cluster.nodes);
      const bob = io(`${lb.url}/fulfillment`, { auth: { token: userToken("bob") }, forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 300 });
      sockets.push(bob);
      await new Promise((resolve, reject) => {
        bob.once("connect", resolve);
        bob.once("connect_error", reject);
      });
      assertSubscribed(await request(bob, "subscribe:order", { orderId: "e-2" }), "e-2");
      const admin = await a.connect(adminToken());
      const mallory = await c.connect(userToken("mallory"));
      const seen = new Map();
      for (const [name, s] of [["alice", alice], ["bob", bob], ["admin", admin], ["mallory", mallory]]) {
        seen.set(name, []);
        s.onAny((event, data) => seen.get(name).push(`${event}:${data.orderId ?? "-"}:${data.i ?? "-"}`));
      }
      const emitter = new Emitter(redis).of("/fulfillment");
      emitter.to("order:e-1").emit(STATUS, { status: "processing", i: 0 });  // orderId from the room
      emitter.to("order:e-2").emit(STATUS, { orderId: "e-2", status: "processing", i: 1 });
      emitter.to("admins").emit("admin:job-queue-event", { jobId: "j-1", state: "queued", i: 2 });
      emitter.to("admins").emit(STATUS, { orderId: "e-1", status: "processing", i: 3 });  // admins only
      emitter.to("lobby").emit(STATUS, { orderId: "e-1", status: "processing", i: 4 });  // refused: not a room of ours
      emitter.to("order:e-2").emit(STATUS, { orderId: "e-1", status: "processing", i: 5 });  // refused: another order's data
      for (let i = 6; i < 26; i++) emitter.to("order:e-1").emit(STATUS, { status: "processing", i });
      await until(() => seen.get("alice").length === 21 && seen.get("admin").length === 24, 10000, "the emitted events");
      await sleep(300);
      const ordered = range(20).map((k) => `${STATUS}:e-1:${k + 6}`);
      assert.deepEqual(seen.get("alice"), [`${STATUS}:e-1:0`, ...ordered], "alice: her order's events, once, in order");
      assert.deepEqual(seen.get("bob"), [`${STATUS}:e-2:1`], "bob: his order's only");
      assert.deepEqual(seen.get("admin"), [`${STATUS}:e-1:0`, `${STATUS}:e-2:1`, "admin:job-queue-event:-:2", `${STATUS}:e-1:3`, ...ordered]);
      assert.deepEqual(seen.get("mallory"), [], "another user gets nothing");
      let refused = 0;
      for (const g of cluster.nodes) {
        const m = await g.metrics();
        refused += metricValue(m, "fg_emitter_messages_total", { outcome: "unsupported" }) + metricValue(m, "fg_emitter_messages_total", { outcome: "invalid" });
      }
      assert.equal(refused, 2);

      // They are in the log: a client away while they are emitted gets them on recovery.
      alice.io.engine.close();
      emitter.to("order:e-1").emit(STATUS, { status: "processing", i: 26 });
      await until(() => alice.connected && seen.get("alice").length === 22, 10000, "alice back with the event she missed").catch((e) => {
        console.log(alice.connected, alice.recovered, JSON.stringify(seen.get("alice").slice(-3)));
        throw e;
      });
      assert.equal(alice.recovered, true);
      assert.equal(seen.get("alice").at(-1), `${STATUS}:e-1:26`);

      // The holder drains: another node takes the lease and the emitter keeps working.
      let holder = -1;
      for (const [k, g] of cluster.nodes.entries()) if (metricValue(await g.metrics(), "fg_emitter_lease") === 1) holder = k;
      assert.ok(holder >= 0);
      const others = cluster.nodes.filter((_, k) => k !== holder);
      const stopping = cluster.nodes[holder].stop("SIGTERM");
      await until(async () => {
        for (const g of others) if (metricValue(await g.metrics(), "fg_emitter_lease") === 1) return true;
        return false;
      }, 10000, "another node holds the lease");
      await stopping;
      const bobBefore = seen.get("bob").length;
      await until(() => bob.connected, 10000, "bob connected");
      emitter.to("order:e-2").emit(STATUS, { status: "processing", i: 27 });
      await until(() => seen.get("bob").length === bobBefore + 1, 10000, "bob's event after the handover");
    } finally {
      for (const s of sockets) s.disconnect();
      await lb?.stop();
      await redis.quit();
      await cluster.stop();
    }
  });

  it("the balancer never sends a request of a session twice (a poll lost in a dying forwarder must fail, not vanish)", async () => {
    // Two stand-in nodes behind deploy/nginx.conf: one answers, one takes each request and dies
    // on it (as a node killed while forwarding a long poll).
    const net = await import("node:net");
    const http = await import("node:http");
    let dyingHits = 0;
    const dying = net.createServer((sock) => sock.once("data", () => { dyingHits++; sock.destroy(); }));
    const ok = http.createServer((req, res) => res.end("ok"));
    const listen = (srv) => new Promise((r) => srv.listen(0, "127.0.0.1", () => r(srv.address().port)));
    // max_fails=0: the dying one stays in the rotation, so both kinds of request keep meeting it.
    const lb = await startNginx(services, [{ port: await listen(dying) }, { port: await listen(ok) }], { serverParams: "max_fails=0" });
    try {
      const statuses = async (query) => {
        const out = [];
        for (let k = 0; k < 12; k++) out.push((await fetch(`${lb.url}/socket.io/?EIO=4&transport=polling${query}`)).status);
        return out;
      };
      dyingHits = 0;
      const fresh = await statuses("");
      assert.deepEqual(fresh, Array(12).fill(200), "a handshake is tried on the next node");
      assert.ok(dyingHits > 0, "the dying node got handshakes too");
      dyingHits = 0;
      const session = await statuses("&sid=ab12cd34.x");
      assert.ok(dyingHits > 0, "the dying node got session requests");
      assert.equal(session.filter((st) => st === 502).length, dyingHits, `never retried elsewhere: ${session}`);
    } finally {
      await lb.stop();
      dying.close();
      ok.close();
    }
  });
});
