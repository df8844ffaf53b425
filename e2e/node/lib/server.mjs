// Test helper: runs the cozeauth binary (admin CLI and server) in a temp dir.
//
//   import { useServer } from './lib/server.mjs';
//   describe('x', () => {
//     const srv = useServer();            // before: start; after: stop
//     it('y', async () => { await srv.admin(['user', 'create', ...], { input: 'pw' }); ... srv.baseURL ... });
//   });
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const binPath = process.env.COZEAUTH_BIN
  ? resolve(process.env.COZEAUTH_BIN)
  : join(repoRoot, 'bin', 'cozeauth');
export const isCI = process.env.CI === 'true' || process.env.CI === '1';

// skipReason is false when the binary exists, otherwise a reason for { skip }. Under CI a missing binary
// is an error, never a skip.
export function skipReason() {
  if (existsSync(binPath)) return false;
  if (isCI) throw new Error(`cozeauth binary not found at ${binPath} (set COZEAUTH_BIN); CI must not skip`);
  return `cozeauth binary not found at ${binPath}; build it with: go build -o bin/cozeauth ./cmd/cozeauth`;
}

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const CMD_TIMEOUT_MS = 30_000;
const LOG_KEEP = 64 * 1024;

const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

// run executes the binary and resolves to { code, stdout, stderr }; it never rejects on a non-zero exit.
export function run(args, { input, env, timeout = CMD_TIMEOUT_MS } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binPath, args, {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cozeauth ${args.join(' ')}: timed out after ${timeout} ms\nstderr: ${stderr}`));
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the command may exit without reading stdin
    child.stdin.end(input ?? '');
  });
}

// admin runs `cozeauth admin --db DB --create ARGS... --json` (tests build their world on a new file) and returns the
// one JSON object it prints.
// It throws (with stderr) when the command exits non-zero or prints anything but one JSON object.
export async function admin(db, args, { input } = {}) {
  const full = ['admin', '--db', db, '--create', ...args, '--json'];
  const { code, stdout, stderr } = await run(full, { input });
  const shown = `cozeauth ${full.join(' ')}`;
  if (code !== 0) {
    const err = new Error(`${shown}: exit ${code}: ${stderr.trim()}`);
    Object.assign(err, { exitCode: code, stdout, stderr });
    throw err;
  }
  let out;
  try {
    out = JSON.parse(stdout);
  } catch (e) {
    throw new Error(`${shown}: stdout is not one JSON value: ${JSON.stringify(stdout)} (${e.message})`);
  }
  if (out === null || typeof out !== 'object' || Array.isArray(out)) {
    throw new Error(`${shown}: stdout is not a JSON object: ${stdout}`);
  }
  return out;
}

// freePort asks the kernel for an unused loopback port.
export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePromise(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// startServer creates a temp dir, starts `cozeauth serve` on a free port with a SQLite file (or opts.db)
// and resolves once GET /readyz answers 200. The returned handle's stop() ends it and removes the dir.
export async function startServer({ db, args = [], env } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'cozeauth-e2e-'));
  const dsn = db ?? join(dir, 'cozeauth.db');
  let lastErr;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(dir, dsn, args, env);
    } catch (err) {
      lastErr = err;
      // Only a lost race for the port is worth another try.
      if (!/address already in use/i.test(String(err.message))) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastErr;
}

async function startOnce(dir, dsn, extraArgs, env) {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const baseURL = `http://${addr}`;
  const serveArgs = ['serve', '--addr', addr, '--db', dsn, ...extraArgs];
  const child = spawn(binPath, serveArgs, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let log = '';
  const keep = (d) => {
    log += d;
    if (log.length > LOG_KEEP) log = log.slice(-LOG_KEEP);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  let exited = null;
  const exitedPromise = new Promise((r) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      r(exited);
    }),
  );
  child.on('error', (err) => keep(`spawn error: ${err.message}\n`));

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer';
  for (;;) {
    if (exited) {
      throw new Error(
        `cozeauth ${serveArgs.join(' ')} exited (${JSON.stringify(exited)}) before /readyz answered 200; output:\n${log}`,
      );
    }
    try {
      const res = await fetch(`${baseURL}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastProblem = `HTTP ${res.status}`;
    } catch (err) {
      lastProblem = err.cause?.code ?? err.message;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exitedPromise;
      throw new Error(`cozeauth not ready within ${READY_TIMEOUT_MS} ms (${lastProblem}); output:\n${log}`);
    }
    await sleep(25);
  }

  let stopped = false;
  return {
    baseURL,
    port,
    dir,
    db: dsn,
    process: child,
    log: () => log,
    admin: (adminArgs, opts) => admin(dsn, adminArgs, opts),
    // stop sends SIGTERM, waits for the exit (SIGKILL after 10 s) and removes the temp dir.
    // It resolves to the exit { code, signal }.
    async stop() {
      if (stopped) return exited;
      stopped = true;
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exitedPromise;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
      return exited;
    },
  };
}

// useServer registers before/after hooks in the current suite: the server starts before its tests and
// stops after them. The returned object is filled in by the before hook (same fields as startServer's).
export function useServer(opts) {
  const srv = {};
  before(async () => {
    Object.assign(srv, await startServer(opts));
  });
  after(async () => {
    if (!srv.stop) return;
    const exit = await srv.stop();
    if (exit && exit.code !== 0 && exit.code !== null) {
      process.stderr.write(`cozeauth serve exited with ${JSON.stringify(exit)} after SIGTERM; output:\n${srv.log()}\n`);
    }
  });
  return srv;
}
