import { Inject, Injectable, Optional } from '@nestjs/common';
import { MESSAGING_BROKER, MESSAGING_CONNECTIONS, MESSAGING_OPTIONS } from '../../constants.js';
import { describeError } from '../../error-text.js';
import { MessagingOptionsError } from '../../errors.js';
import type { ResolvedMessagingOptions } from '../../messaging.options.js';
import { requirePackages } from '../../optional-package.js';
import type { Broker } from '../../transport/broker.js';
import type { Connection, ConnectionList } from '../../transport/connection.js';
import { judgeHealth, type HealthCheckOptions } from './judge-health.js';

type TerminusModule = typeof import('@nestjs/terminus');

/** What terminus' HealthCheckService expects of an indicator (its HealthIndicatorResult), without naming its types. */
export type MessagingHealthResult<Key extends string> = Record<Key, { status: 'up' | 'down'; [detail: string]: unknown }>;

/**
 * A @nestjs/terminus health indicator: `isHealthy('messaging', { deadLetterThreshold? })` is up while the broker
 * connection is up and every consumer receives; down, with the reason, when the AMQP connection is lost, a consumer
 * is detached, an SQS queue keeps failing to receive, or a dead-letter queue holds more than `deadLetterThreshold`
 * messages. @nestjs/terminus is loaded on the first check, never when the module loads.
 *
 * In an app with named connections (`MessagingModule.forRoot({ name })`) it judges each: `connections` holds each
 * one's verdict by name (the default connection's as `default`), and the check is down, with each down connection's
 * reason, when any connection is down. The top-level details stay the default connection's.
 */
@Injectable()
export class MessagingHealthIndicator {
  private terminus?: Promise<TerminusModule>;

  constructor(
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
    @Optional() @Inject(MESSAGING_CONNECTIONS) private readonly connections?: ConnectionList,
  ) {}

  async isHealthy<const Key extends string>(key: Key, check: HealthCheckOptions = {}): Promise<MessagingHealthResult<Key>> {
    checkOptions(check);
    const terminus = await this.loadTerminus();
    const session = new terminus.HealthIndicatorService().check(key);
    const connections = this.connections?.() ?? [];
    if (connections.length <= 1) {
      const verdict = await judgeConnection(this.broker, this.options.transport, check);
      return verdict.reason === undefined ? session.up(verdict.details) : session.down({ ...verdict.details, reason: verdict.reason });
    }
    const verdicts = await Promise.all(
      connections.map(async (c: Connection) => ({ name: c.name, ...(await judgeConnection(c.broker, c.options.transport, check)) })),
    );
    const reasons = verdicts.filter((v) => v.reason !== undefined).map((v) => `connection '${v.name}': ${v.reason}`);
    const details = {
      ...verdicts[0].details,
      connections: Object.fromEntries(
        verdicts.map((v) => [
          v.name,
          { status: v.reason === undefined ? 'up' : 'down', ...v.details, ...(v.reason !== undefined ? { reason: v.reason } : {}) },
        ]),
      ),
    };
    return reasons.length === 0 ? session.up(details) : session.down({ ...details, reason: reasons.join('; ') });
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

/** One connection's verdict: the reason when down, and the details (transport, consumers, dead letters) either way. */
async function judgeConnection(
  broker: Broker,
  transport: string,
  check: HealthCheckOptions,
): Promise<{ reason?: string; details: Record<string, unknown> }> {
  const health = broker.health?.() ?? { connected: true, consumers: [] };
  let depths;
  if (check.deadLetterThreshold !== undefined && health.connected) {
    try {
      depths = await broker.deadLetterDepths?.();
    } catch (error) {
      return { reason: `cannot read the dead-letter queue depths: ${describeError(error)}`, details: { transport } };
    }
  }
  const verdict = judgeHealth(health, depths, check);
  return { reason: verdict.reason, details: { transport, consumers: health.consumers.length, ...verdict.details } };
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
