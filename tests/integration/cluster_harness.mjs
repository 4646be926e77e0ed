// A cluster for tests: a fresh PostgreSQL and Redis (scripts/services.sh, loopback, free ports,
// stopped by PID) and gateway nodes sharing them. Each cluster gets a schema of its own in the one
// PostgreSQL instance, so the tests of a file start from an empty store.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startGateway } from "./harness.mjs";

const SERVICES = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../scripts/services.sh");
export const KEY_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString("base64");

export class Services {
  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), "fg-services-"));
    const out = (cmd) => execFileSync(SERVICES, [cmd, this.dir], { encoding: "utf8" });
    this.databaseUrl = /DATABASE_URL=(\S+)/.exec(out("start-postgres"))[1];
    this.redisUrl = /REDIS_URL=(\S+)/.exec(out("start-redis"))[1];
    this.schemas = 0;
  }
  run(cmd) {
    execFileSync(SERVICES, [cmd, this.dir], { stdio: "ignore" });
  }
  psql(sql, url = this.databaseUrl) {
    return execFileSync("psql", [url, "-qAtc", sql], { encoding: "utf8" }).trim();
  }
  // A database URL whose tables live in a new, empty schema.
  freshDatabase() {
    const schema = `c${process.pid}_${++this.schemas}`;
    this.psql(`CREATE SCHEMA ${schema}`);
    return `${this.databaseUrl}?options=-csearch_path%3D${schema}`;
  }
  stop() {
    try {
      this.run("stop");
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

// `n` nodes on one fresh schema; extra env for all of them.
export async function startCluster(services, n, { env = {}, args = [] } = {}) {
  const databaseUrl = services.freshDatabase();
  const nodes = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(await startNode(services, databaseUrl, `node-${i + 1}`, { env, args }));
  } catch (e) {
    await Promise.all(nodes.map((g) => g.stop("SIGKILL")));
    throw e;
  }
  return {
    nodes,
    databaseUrl,
    add: async (id, opts = {}) => {
      const g = await startNode(services, databaseUrl, id, { env: { ...env, ...opts.env }, args });
      nodes.push(g);
      return g;
    },
    // Node i again, same id and port (a restart): replaces it in `nodes`.
    async restart(i) {
      const old = nodes[i];
      const g = await startNode(services, databaseUrl, `node-${i + 1}`, { env, args, port: old.port });
      old.cleanup();
      nodes[i] = g;
      return g;
    },
    async stop() {
      for (const g of nodes) {
        await g.stop();
        g.cleanup();
      }
    },
  };
}

function startNode(services, databaseUrl, id, { env, args, port = 0 }) {
  return startGateway({
    args,
    port,
    env: {
      DRAIN_SECONDS: "1",
      DATABASE_URL: databaseUrl,
      REDIS_URL: services.redisUrl,
      NODE_ID: id,
      KEY_ENCRYPTION_KEY,
      ...env,
    },
  });
}

// nginx (Debian's nginx-light) in front of `nodes` as deploy/nginx.conf has it: plain round robin.
// `serverParams`: what each upstream server line carries (deploy/nginx.conf says why these).
export async function startNginx(services, nodes, { serverParams = "max_fails=1 fail_timeout=1s" } = {}) {
  const { mkdirSync, readFileSync, writeFileSync } = await import("node:fs");
  const { spawn } = await import("node:child_process");
  const net = await import("node:net");
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const prefix = path.join(services.dir, `nginx-${port}`);
  mkdirSync(prefix, { recursive: true });
  const template = readFileSync(path.resolve(path.dirname(SERVICES), "../deploy/nginx.conf"), "utf8");
  const upstreams = nodes.map((g) => `    server 127.0.0.1:${g.port} ${serverParams};`).join("\n");
  const conf = template.replaceAll("@PREFIX@", prefix).replaceAll("@PORT@", String(port)).replace("@UPSTREAMS@", upstreams);
  writeFileSync(path.join(prefix, "nginx.conf"), conf);
  const child = spawn("nginx", ["-c", path.join(prefix, "nginx.conf"), "-p", prefix, "-e", path.join(prefix, "error.log"), "-g", "daemon off;"], {
    stdio: "ignore",
  });
  // Ready when it answers.
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error("nginx did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGQUIT");
      await exited;
    },
  };
}
