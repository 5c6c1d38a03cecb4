/**
 * The allocator's fault run (test/support/allocator-fault-run.ts): 100 resources at once through Create, Update
 * and Delete, while answers are lost, connections reset, calls throttled and dropped, and the backend paused.
 * Afterwards: every live host routed by exactly one rule (its own), no rule without a live resource, each counter
 * equal to its listener's rules, no priority given twice, every request answered within the function's time.
 */
import { AlbFixture, createAlbFixture, ResponseServer, startResponseServer, STATE_TABLE } from '../support/alb-fixture';
import { measureFaultRun, runFaults, handlerPerInvocation } from '../support/allocator-fault-run';
import { ListenerProbe } from '../support/allocator-harness';
import { FaultProxy, seededRandom, startFaultProxy } from '../support/fault-proxy';
import { MotoServer, startMoto } from '../support/moto';

jest.setTimeout(300_000);

// Opt-in (ALLOCATOR_FAULT_RUN=1), and the fault run of `npx projen bench:allocator --faults-only`: it is green, but
// it takes about 70 s on the 2-core machine at a load average of 10 (moto serves one call at a time, about 1,700
// calls), too long for the default suite. It failed before when one handler served all 100 invocations: their calls
// queued on one client's 50 sockets and failed as connection timeouts. Each invocation now has its own handler, as
// in Lambda, and the function's time is the allocator's (2 minutes).
const faultRunTest = process.env.ALLOCATOR_FAULT_RUN === '1' ? test : test.skip;

let moto: MotoServer;
let proxy: FaultProxy;
let fixture: AlbFixture;
let responses: ResponseServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  moto = await startMoto();
  // One call at a time: moto's conditional writes are then atomic, as DynamoDB's are.
  proxy = await startFaultProxy(moto.endpoint, { serial: true, random: seededRandom(20) });
  Object.assign(process.env, proxy.env(moto.env), {
    STATE_TABLE_NAME: STATE_TABLE,
    SAFETY_MARGIN_MS: '5000',
    SDK_TIMEOUT_MS: '8000',
  });
  responses = await startResponseServer();
  fixture = await createAlbFixture(moto);
});

afterAll(async () => {
  process.env = savedEnv;
  await responses?.close();
  await proxy?.close();
  await moto?.stop();
});

faultRunTest(
  '100 resources through Create, Update and Delete under faults: nothing leaks, nothing is routed twice',
  async () => {
    const run = await runFaults(handlerPerInvocation(), fixture, responses, proxy);
    if (process.env.FAULTS_DEBUG) {
      const reasons = run.invocations.map((i) =>
        `${i.type} ${i.response.Status} ${i.response.Reason ?? ''}`.replace(/arn:\S+/g, '').slice(0, 160),
      );
      process.stderr.write(`wall ${run.wallMs}\n${reasons.join('\n')}\n${JSON.stringify(run.injected)}\n`);
    }
    // The faults happened.
    const injected = Object.entries(run.injected);
    for (const fault of ['error-after', 'reset-after', 'throttle', 'drop']) {
      expect(injected.some(([k, n]) => k.endsWith(`:${fault}`) && n > 0)).toBe(true);
    }
    expect(run.invocations.length).toBeGreaterThanOrEqual(200);
    for (const type of ['Create', 'Update', 'Delete']) {
      expect(run.invocations.some((i) => i.type === type)).toBe(true);
    }
    // The scheduled sweeps after the run had nothing left that they could not do.
    for (const swept of run.sweeps) expect(swept.errors).toEqual([]);

    const figures = await measureFaultRun(new ListenerProbe(moto), run);
    if (process.env.FAULTS_DEBUG) {
      process.stderr.write(
        JSON.stringify(
          {
            figures,
            injected: run.injected,
            wall: run.wallMs,
            reasons: run.invocations
              .filter((i) => i.response.Status === 'FAILED')
              .map((i) => `${i.type}: ${i.response.Reason}`),
          },
          null,
          1,
        ) + '\n',
      );
    }
    expect(figures.liveResources).toBeGreaterThan(5);
    expect(figures).toMatchObject({
      rules: figures.liveResources,
      hostsRoutedTwice: 0,
      liveHostsUnrouted: 0,
      goneHostsRouted: 0,
      rulesLeaked: 0,
      priorityGivenTwice: 0,
      unanswered: 0,
      late: 0,
    });
    const perListener = run.listeners.map((l) => run.live.filter((x) => x.listenerArn === l).length);
    expect(figures.counters).toEqual(perListener);
  },
);
