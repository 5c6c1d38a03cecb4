/**
 * Starts moto's server (installed in .venv by `npx projen python-tools`) on a free localhost port, for
 * integration tests that run real AWS SDK code against a fake AWS.
 *
 * ```ts
 * let moto: MotoServer;
 * beforeAll(async () => { moto = await startMoto(); });
 * afterAll(async () => { await moto?.stop(); });
 * // clients: new XxxClient({ ...moto.clientConfig }) — or moto.env for code that builds its own clients
 * ```
 *
 * The server is killed by `stop()`, when the jest worker exits without calling it (a failing beforeAll),
 * and, through a watchdog in the server process, within a second of the worker being killed outright.
 * Each server has its own state; `reset()` empties it.
 */
import { ChildProcess, spawn } from 'child_process';
import { existsSync } from 'fs';
import * as http from 'http';
import * as net from 'net';
import { join } from 'path';

const VENV_PYTHON = join(__dirname, '..', '..', '.venv', 'bin', 'python');
const MOTO_SERVER = join(__dirname, '..', '..', '.venv', 'bin', 'moto_server');

/**
 * Runs moto's server with a watchdog thread that exits as soon as the parent (the jest worker) is gone,
 * so that no server outlives a killed test run, even one killed with SIGKILL.
 */
const WATCHED_MOTO = [
  'import os, sys, threading, time',
  'parent = os.getppid()',
  'def watch():',
  '    while os.getppid() == parent:',
  '        time.sleep(0.5)',
  '    os._exit(0)',
  'threading.Thread(target=watch, daemon=True).start()',
  'from moto.server import main',
  'main(sys.argv[1:])',
].join('\n');

export interface MotoServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  readonly port: number;
  /** Region, static credentials and endpoint for an SDK v3 client. */
  readonly clientConfig: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** The same as environment variables (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, ...). */
  readonly env: Record<string, string>;
  /** Empties every service's state. */
  reset(): Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s); safe to call twice. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function request(method: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startOnce(port: number, timeoutMs: number): Promise<MotoServer> {
  const child = spawn(VENV_PYTHON, ['-c', WATCHED_MOTO, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited(child);
    clearTimeout(timer);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`moto_server exited during start-up (code ${child.exitCode}): ${stderr}`);
    }
    try {
      await request('GET', `${endpoint}/moto-api/`);
      break;
    } catch {
      if (Date.now() - started > timeoutMs) {
        await stop();
        throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const region = 'us-east-1';
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  return {
    endpoint,
    port,
    clientConfig: { region, endpoint, credentials },
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    reset: async () => {
      const status = await request('POST', `${endpoint}/moto-api/reset`);
      if (status !== 200) throw new Error(`moto reset answered HTTP ${status}`);
    },
    stop,
  };
}

/** Starts moto's server on a free port (retrying on another port if the first was taken meanwhile). */
export async function startMoto(timeoutMs = 30_000): Promise<MotoServer> {
  if (!existsSync(MOTO_SERVER)) {
    throw new Error(`${MOTO_SERVER} not found: run \`npx projen python-tools\` (moto[server] is pinned there)`);
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freePort(), timeoutMs);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
