/**
 * A fault-injecting HTTP proxy in front of moto's server, for tests of what the priority allocator does when AWS
 * calls fail half-way: SDK clients point at the proxy's endpoint, and rules decide, per operation, what happens to
 * a call.
 *
 * ```ts
 * const proxy = await startFaultProxy(moto.endpoint);
 * proxy.addRule({ operation: 'CreateRule', fault: 'error-after', probability: 0.3 });
 * // clients: { ...moto.clientConfig, endpoint: proxy.endpoint }, or proxy.env for code that builds its own
 * ```
 *
 * Faults:
 * - `error-after`: the call reaches moto (its effect happens), then the client gets HTTP 503 instead of the answer.
 * - `reset-after`: the call reaches moto, then the client's connection is reset.
 * - `drop`: the call reaches moto, and the client never gets an answer (it waits for its own timeout).
 * - `fail`: the call never reaches moto; the client gets HTTP 500 (a failed write, a broken backend).
 * - `throttle`: the call never reaches moto; the client gets the service's throttling error (HTTP 400).
 * - `delay`: the call reaches moto after `delayMs`.
 * - `hold`: the call reaches moto after `delayMs` even when its client gave up meanwhile, as a backend that took a
 *   call and acts on it late does; its answer goes to the client if it still waits.
 * `pause(ms)` holds every call for that long, as a stopped backend does: calls already sent are served when it
 * resumes, even those whose client gave up meanwhile.
 *
 * The operation is read from the request: `X-Amz-Target` (JSON protocols such as DynamoDB's) or the `Action`
 * parameter of the form body (query protocols such as ELB's). With `serial`, moto gets one call at a time.
 */
import * as http from 'http';
import { AddressInfo } from 'net';

export type Fault = 'error-after' | 'reset-after' | 'drop' | 'fail' | 'throttle' | 'delay' | 'hold';

export interface FaultRule {
  /** Operations the rule applies to, e.g. `CreateRule`, `PutItem` (default: every operation). */
  readonly operation?: string | readonly string[];
  /** Applies only to calls whose body this predicate accepts. */
  readonly matches?: (body: string) => boolean;
  readonly fault: Fault;
  /** Chance that a matching call gets the fault (default 1). */
  readonly probability?: number;
  /** Applies to at most this many calls (default: no limit). */
  readonly times?: number;
  /** For `delay` and `hold`: milliseconds before the call is forwarded (default 200). */
  readonly delayMs?: number;
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:41235 */
  readonly endpoint: string;
  /** Calls seen, by operation, and faults injected, by `<operation>:<fault>`. */
  readonly calls: Record<string, number>;
  readonly injected: Record<string, number>;
  /** Calls never forwarded: their client had given up (timed out) while they waited in the queue or the pause. */
  readonly abandoned: { readonly count: number };
  /** moto's environment variables with the proxy as the endpoint. */
  env(motoEnv: Record<string, string>): Record<string, string>;
  addRule(rule: FaultRule): void;
  clearRules(): void;
  /** Holds every call (new and in flight towards moto) for `ms` milliseconds. */
  pause(ms: number): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Forward one call at a time to moto (default false). */
  readonly serial?: boolean;
  /** Random numbers in [0, 1) for `probability` (default Math.random); give a seeded one for repeatable runs. */
  readonly random?: () => number;
}

/** A small seeded random generator (a linear congruential one), for repeatable fault runs. */
export function seededRandom(seed: number): () => number {
  const modulus = 4_294_967_296;
  let state = Math.abs(Math.floor(seed)) % modulus;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) % modulus;
    return state / modulus;
  };
}

function operationOf(req: http.IncomingMessage, body: string): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.split('.').pop() ?? target;
  const action = new URLSearchParams(body).get('Action');
  return action ?? 'Unknown';
}

function isJsonProtocol(req: http.IncomingMessage): boolean {
  return typeof req.headers['x-amz-target'] === 'string';
}

function errorBody(req: http.IncomingMessage, code: string, message: string): { type: string; body: string } {
  if (isJsonProtocol(req)) {
    return {
      type: 'application/x-amz-json-1.0',
      body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message }),
    };
  }
  return {
    type: 'text/xml',
    body:
      `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
      '<RequestId>fault-proxy</RequestId></ErrorResponse>',
  };
}

export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const random = options.random ?? Math.random;
  const rules: { rule: FaultRule; used: number }[] = [];
  const calls: Record<string, number> = {};
  const injected: Record<string, number> = {};
  let pausedUntil = 0;
  const abandoned = { count: 0 };
  let queue: Promise<void> = Promise.resolve();
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.serial ? 1 : 50 });
  const targetUrl = new URL(target);

  const waitWhilePaused = async () => {
    while (Date.now() < pausedUntil) await new Promise((r) => setTimeout(r, pausedUntil - Date.now()));
  };

  /** Forwards the call to moto; resolves with moto's answer. */
  const forward = (req: http.IncomingMessage, body: Buffer, evenAbandoned = false) => {
    const run = async () => {
      await waitWhilePaused();
      // A call whose client gave up while it waited in the serial queue (or the pause) never left the client's side
      // as far as moto is concerned: forwarding it anyway made moto serve calls nobody waits for, so that under load
      // the queue only grew and every later call timed out as well.
      if (req.socket.destroyed && !evenAbandoned) {
        abandoned.count += 1;
        throw new Error('the client gave up before the call was forwarded');
      }
      return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const headers = { ...req.headers, host: targetUrl.host };
        const upstream = http.request(
          { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
            );
            res.on('error', reject);
          },
        );
        upstream.on('error', reject);
        upstream.end(body);
      });
    };
    if (!options.serial) return run();
    const result = queue.then(run);
    queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };

  const pick = (operation: string, body: string): FaultRule | undefined => {
    for (const entry of rules) {
      const { rule } = entry;
      const ops =
        rule.operation === undefined
          ? undefined
          : typeof rule.operation === 'string'
            ? [rule.operation]
            : rule.operation;
      if (ops && !ops.includes(operation)) continue;
      if (rule.matches && !rule.matches(body)) continue;
      if (rule.times !== undefined && entry.used >= rule.times) continue;
      if (random() >= (rule.probability ?? 1)) continue;
      entry.used += 1;
      return rule;
    }
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString();
      const operation = operationOf(req, text);
      calls[operation] = (calls[operation] ?? 0) + 1;
      const rule = pick(operation, text);
      if (rule) injected[`${operation}:${rule.fault}`] = (injected[`${operation}:${rule.fault}`] ?? 0) + 1;
      const answer = (status: number, code: string, message: string) => {
        const { type, body: payload } = errorBody(req, code, message);
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(payload) });
        res.end(payload);
      };
      if (rule?.fault === 'throttle') {
        answer(400, isJsonProtocol(req) ? 'ThrottlingException' : 'Throttling', 'Rate exceeded');
        return;
      }
      if (rule?.fault === 'fail') {
        answer(500, 'InternalFailure', 'the fault proxy failed this call');
        return;
      }
      const delay = rule?.fault === 'delay' || rule?.fault === 'hold' ? (rule.delayMs ?? 200) : 0;
      void new Promise((r) => setTimeout(r, delay))
        .then(() => forward(req, body, rule?.fault === 'hold'))
        .then(
          (upstream) => {
            if (res.destroyed) return;
            switch (rule?.fault) {
              case 'error-after':
                answer(503, 'ServiceUnavailable', 'the fault proxy lost the answer');
                return;
              case 'reset-after':
                req.socket.destroy();
                return;
              case 'drop':
                return; // never answered: the client times out and closes the connection
              default: {
                const headers = { ...upstream.headers };
                delete headers['transfer-encoding'];
                headers['content-length'] = String(upstream.body.length);
                res.writeHead(upstream.status, headers);
                res.end(upstream.body);
              }
            }
          },
          () => {
            if (!res.destroyed) answer(502, 'ServiceUnavailable', 'moto did not answer the fault proxy');
          },
        );
    });
  });
  // A dropped call's connection is left open; close() must not wait for it.
  const sockets = new Set<import('net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    env: (motoEnv) => ({ ...motoEnv, AWS_ENDPOINT_URL: endpoint }),
    addRule: (rule) => rules.push({ rule, used: 0 }),
    clearRules: () => rules.splice(0, rules.length),
    pause: (ms) => {
      pausedUntil = Math.max(pausedUntil, Date.now() + ms);
    },
    calls,
    injected,
    abandoned,
    close: async () => {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
