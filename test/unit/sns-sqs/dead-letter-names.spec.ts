import type { MessageHandler } from '@nestjs/microservices';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { planQueues } from '../../../lib/server/subscription-planner.js';
import { amqpTransport } from '../../../lib/amqp/definition.js';
import { snsSqsTransport } from '../../../lib/sns-sqs/definition.js';
import { sqsDeadLetterQueueName, sqsDeadLetterQueueNameOf, validateQueuePlans } from '../../../lib/sns-sqs/naming.js';

const handler = (extras: Record<string, unknown>): MessageHandler =>
  Object.assign(async () => undefined, { isEventHandler: true, extras }) as unknown as MessageHandler;

describe('the dead-letter queue the library names for an SQS queue', () => {
  it.each([
    ['orders', 'orders-dlq'],
    ['orders.fifo', 'orders-dlq.fifo'],
    ['orders-dlq', 'orders-dlq-dlq'],
  ])('%s → %s', (queue, deadLetterQueue) => {
    expect(sqsDeadLetterQueueNameOf(queue)).toBe(deadLetterQueue);
  });

  it.each([
    ['queueName with .fifo', 'orders.fifo'],
    ['queueName without .fifo', 'orders'],
  ])('a FIFO handler with a %s gets the DLQ the admin makes for that queue, a name SQS accepts', (_label, queueName) => {
    const options = resolveModuleOptions({ transport: 'sns-sqs', serviceName: 'billing', queueNamePrefix: 'app-' });
    const [{ plan }] = planQueues(new Map([['order.placed', handler({ fifo: true, queueName })]]), options, snsSqsTransport, 'uuid');
    expect(sqsDeadLetterQueueName(plan)).toBe('app-orders-dlq.fifo');
    expect(sqsDeadLetterQueueName(plan)).toBe(sqsDeadLetterQueueNameOf('app-orders.fifo'));
    expect(() => validateQueuePlans([plan], options.topicPrefix)).not.toThrow();
  });

  it('leaves AMQP names as they are: a dot is an ordinary character there', () => {
    const options = resolveModuleOptions({ transport: 'amqp', serviceName: 'billing' });
    const [{ plan }] = planQueues(new Map([['order.placed', handler({ queueName: 'orders.fifo' })]]), options, amqpTransport, 'uuid');
    expect(plan.deadLetter).toEqual({ name: 'orders.fifo-dlq' });
  });
});
