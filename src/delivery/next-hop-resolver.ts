/** Delivery's side of the resolver port: routes and MX (routing.ts), a classified failure when mail cannot go anywhere. */
import type { NextHopResolver } from '../core/courier.js';
import type { DeliveryFailure } from '../core/envelope.js';
import { DeliveryError } from './outcome.js';
import { planNextHop, type NextHopPlan, type RoutingSettings } from './routing.js';

export class RoutingResolver implements NextHopResolver<NextHopPlan> {
  constructor(private readonly settings: RoutingSettings) {}

  async resolve(tenantId: string | null, domain: string): Promise<{ hop: NextHopPlan } | { failure: DeliveryFailure }> {
    try {
      return { hop: await planNextHop(this.settings, tenantId, domain) };
    } catch (err) {
      if (err instanceof DeliveryError) return { failure: err.failure };
      throw err;
    }
  }
}
