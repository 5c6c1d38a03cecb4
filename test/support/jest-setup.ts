/*
 * Runs before every test file (jest setupFiles, .projenrc.ts). aws-cdk-lib validates every template of every App it
 * synthesizes (since 2.262): its engine starts in about 3 s per test file and takes 150 ms per template, and it was
 * more than half the CPU of the suites that synthesize the example fleet to read ids, roles or quotas (53 s against
 * 19 s for data-resources, roles and quotas). Templates are held to it where that is the point: newTestApp()
 * (test/support/compliance.ts) registers it on every compliance-checked App, in strict mode, whatever this says, and
 * CI runs `paas-vending synth --validate` on the example fleet. CDK_VALIDATION=true npx jest turns it back on for
 * every App.
 */
process.env.CDK_VALIDATION ??= 'false';

/*
 * `paas-vending synth` builds the stacks in worker processes by default (--jobs, one per processor). From the
 * sources, each worker compiles the library with ts-node first (about 3 s), and tests that replace VendingFleet in this
 * process (jest.spyOn) would not reach it: the command runs in one process here unless a test asks for more
 * (test/cli/synth-jobs.test.ts). PAAS_VENDING_JOBS=2 npx jest runs every synth of the suite in workers.
 */
process.env.PAAS_VENDING_JOBS ??= '1';

/*
 * `paas-vending synth` keeps synthesized stacks between runs (src/cli/synth-cache.ts) and takes unchanged ones from
 * there, without building them: tests that replace VendingFleet or aws-cdk-lib's synth would not reach a stack that
 * came from the cache. Off here; test/cli/synth-cache.test.ts turns it on, in a folder of its own.
 */
process.env.PAAS_VENDING_SYNTH_CACHE ??= 'off';
