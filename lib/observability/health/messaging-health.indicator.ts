import { Inject, Injectable } from '@nestjs/common';
import { MESSAGING_BROKER, MESSAGING_OPTIONS } from '../../constants.js';
import { describeError } from '../../error-text.js';
import { MessagingOptionsError } from '../../errors.js';
import type { ResolvedMessagingOptions } from '../../messaging.options.js';
import { requirePackages } from '../../optional-package.js';
import type { Broker } from '../../transport/broker.js';
import { judgeHealth, type HealthCheckOptions } from './judge-health.js';

type TerminusModule = typeof import('@nestjs/terminus');

/** What terminus' HealthCheckService expects of an indicator (its HealthIndicatorResult), without naming its types. */
export type MessagingHealthResult<Key extends string> = Record<Key, { status: 'up' | 'down'; [detail: string]: unknown }>;

/**
 * A @nestjs/terminus health indicator: `isHealthy('messaging', { deadLetterThreshold? })` is up while the broker
 * connection is up and every consumer receives; down, with the reason, when the AMQP connection is lost, a consumer
 * is detached, an SQS queue keeps failing to receive, or a dead-letter queue holds more than `deadLetterThreshold`
 * messages. @nestjs/terminus is loaded on the first check, never when the module loads.
 */
@Injectable()
export class MessagingHealthIndicator {
  private terminus?: Promise<TerminusModule>;

  constructor(
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
  ) {}

  async isHealthy<const Key extends string>(key: Key, check: HealthCheckOptions = {}): Promise<MessagingHealthResult<Key>> {
    checkOptions(check);
    const terminus = await this.loadTerminus();
    const session = new terminus.HealthIndicatorService().check(key);
    const health = this.broker.health?.() ?? { connected: true, consumers: [] };
    let depths;
    if (check.deadLetterThreshold !== undefined && health.connected) {
      try {
        depths = await this.broker.deadLetterDepths?.();
      } catch (error) {
        return session.down({
          transport: this.options.transport,
          reason: `cannot read the dead-letter queue depths: ${describeError(error)}`,
        });
      }
    }
    const verdict = judgeHealth(health, depths, check);
    const details = { transport: this.options.transport, consumers: health.consumers.length, ...verdict.details };
    return verdict.reason === undefined ? session.up(details) : session.down({ ...details, reason: verdict.reason });
  }

  private loadTerminus(): Promise<TerminusModule> {
    this.terminus ??= requirePackages([{ name: '@nestjs/terminus', load: () => import('@nestjs/terminus') }], 'MessagingHealthIndicator')
      .then(() => import('@nestjs/terminus'))
      .catch((error: unknown) => {
        this.terminus = undefined;
        throw error;
      });
    return this.terminus;
  }
}

function checkOptions(check: HealthCheckOptions): void {
  for (const [name, value] of Object.entries(check)) {
    if (value === undefined) continue;
    if (name !== 'deadLetterThreshold' && name !== 'receiveFailureThreshold') {
      throw new MessagingOptionsError(`isHealthy().${name}`, 'is not a known option; use deadLetterThreshold or receiveFailureThreshold');
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      throw new MessagingOptionsError(`isHealthy().${name}`, 'must be an integer of 0 or more', value);
  }
}
