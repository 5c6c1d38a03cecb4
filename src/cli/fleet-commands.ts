import { args, emptyFleetProblem, readFleetOf } from './args';
import { help } from './help';
import { EXIT_INVALID, EXIT_OK, Io } from './io';
import { table } from './table';
import { ingressOf, ResolvedCustomerConfig, servedHosts } from '../config/defaults';
import { ConfigError } from '../config/errors';
import { displayPath, ResolvedFleet } from '../config/loader';
import { fleetQuotaProblems } from '../environment/quotas';

/** `paas-vending validate`: the fleet read and checked, in one line. */
export function validate(argv: string[], io: Io): number {
  const { flags, positionals } = args(argv, ['allow-empty', 'no-cache'], 1, 'validate');
  if (flags.help) return help('validate', io);
  const fleet = readFleetOf(positionals[0], io, flags['no-cache']);
  const empty = emptyFleetProblem(fleet, 'validate', flags['allow-empty'] ?? false);
  if (empty !== undefined) {
    io.err(empty);
    return EXIT_INVALID;
  }
  const quotaProblems = fleetQuotaProblems(fleet);
  if (quotaProblems.length > 0) throw new ConfigError(quotaProblems);
  const p = fleet.platform;
  const count =
    fleet.customers.length === 1 ? '1 customer environment' : `${fleet.customers.length} customer environments`;
  io.out(`Valid: platform ${p.name} (${p.environment}, ${p.region}) and ${count} in ${displayPath(fleet.directory)}.`);
  return EXIT_OK;
}

/** The host names it is served at (not the platform host name of a dedicated load balancer). */
function hostsOf(c: ResolvedCustomerConfig): string[] {
  return servedHosts(c);
}

function databaseText(c: ResolvedCustomerConfig): string {
  if (!c.database) return '-';
  return `${c.database.engine} ${c.database.version}${c.database.multiAz ? ' multi-AZ' : ''}`;
}

/** `paas-vending list`: the customer environments of the fleet, as a table or JSON. */
export function list(argv: string[], io: Io): number {
  const { flags, positionals } = args(argv, ['json', 'no-cache'], 1, 'list');
  if (flags.help) return help('list', io);
  const fleet: ResolvedFleet = readFleetOf(positionals[0], io, flags['no-cache']);
  if (flags.json) {
    const rows = fleet.customers.map((c, i) => ({
      customer: c.customer,
      environment: c.environment,
      // The platform host name, when it is served (null on a dedicated load balancer, which serves customDomain).
      hostname: ingressOf(c) === 'shared' ? (c.hostname ?? null) : null,
      hosts: hostsOf(c),
      ingress: ingressOf(c),
      database: c.database
        ? { engine: c.database.engine, version: c.database.version, multiAz: c.database.multiAz }
        : null,
      instanceType: c.compute.instanceType,
      minCapacity: c.compute.minCapacity,
      maxCapacity: c.compute.maxCapacity,
      file: fleet.files[i],
    }));
    io.out(JSON.stringify(rows, null, 2));
    return EXIT_OK;
  }
  const header = ['CUSTOMER', 'ENVIRONMENT', 'HOSTNAME', 'INGRESS', 'DATABASE', 'INSTANCE', 'CAPACITY'];
  const rows = fleet.customers.map((c) => [
    c.customer,
    c.environment,
    hostsOf(c).join(', '),
    ingressOf(c),
    databaseText(c),
    c.compute.instanceType,
    `${c.compute.minCapacity}-${c.compute.maxCapacity}`,
  ]);
  io.out(table([header, ...rows]));
  io.out(`\n${rows.length} customer environment(s) on platform ${fleet.platform.name} (${fleet.platform.region}).`);
  return EXIT_OK;
}
