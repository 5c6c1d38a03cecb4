import { ResolvedCustomerConfig } from '../config/defaults';
import { checkCustomer, PlatformEnvironments } from '../config/loader';
import { CustomerConfig } from '../config/types';
import { CustomerWebTier } from '../web-tier/customer-web-tier';

/**
 * The validated config of a construct built on an environment's web tier (the pipelines' `fromConfig`): refuses a
 * web tier of another customer or environment than the config's. The config's environment is one of `platform`'s.
 */
export function checkConfigOfWebTier(
  config: CustomerConfig,
  webTier: CustomerWebTier,
  where: string,
  platform: PlatformEnvironments,
): ResolvedCustomerConfig {
  const resolved = checkCustomer(config, undefined, where, platform);
  if (webTier.customer !== resolved.customer || webTier.environment !== resolved.environment) {
    throw new Error(
      `${where}: webTier: received the web tier of ${webTier.customer}-${webTier.environment}; expected the web ` +
        `tier of the config, ${resolved.customer}-${resolved.environment}`,
    );
  }
  return resolved;
}
