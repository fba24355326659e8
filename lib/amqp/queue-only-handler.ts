import type { ConsumeMessage } from 'amqplib';
import type { DeliveryHandler, QueuePlan } from '../transport/broker.js';
import { queueOnlyTopic } from '../transport/queue-only-topic.js';
import { HEADER } from './naming.js';

/**
 * A queue-only queue's deliveries get their routing topic from queueOnlyTopic. The routing key (the original one
 * after a retry) counts as a topic only when it is not the queue's own name, i.e. when an exchange binding of the
 * queue's owner delivered it rather than the default exchange (`sendToQueue`, a plain basic.publish to the queue).
 */
export function withQueueOnlyTopic(plan: QueuePlan, handler: DeliveryHandler): DeliveryHandler {
  return (delivery) => {
    const msg = delivery.raw as ConsumeMessage | undefined;
    const original = msg?.properties.headers?.[HEADER.originalRoutingKey];
    const routingKey = typeof original === 'string' ? original : msg?.fields.routingKey;
    const transportTopic = routingKey === undefined || routingKey === plan.name ? undefined : delivery.topic;
    return handler({ ...delivery, topic: queueOnlyTopic(plan, transportTopic, delivery.body) });
  };
}
