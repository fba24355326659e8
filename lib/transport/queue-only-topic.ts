import type { QueuePlan } from './broker.js';

/**
 * The routing topic of a message on a queue-only queue. A queue with one handler whose pattern has no wildcard feeds
 * that handler whatever the producer called the topic (tomodachi's `sqs_send_message` writes an empty one): the
 * pattern. Otherwise the topic the transport saw (SNS TopicArn, an AMQP routing key other than the queue's name),
 * else the envelope's `metadata.topic`, else ''.
 */
export function queueOnlyTopic(plan: QueuePlan, transportTopic: string | undefined, body: string | Buffer): string {
  const patterns = plan.subscriptions.map((s) => s.pattern);
  if (patterns.length === 1 && !/(^|\.)[*#](\.|$)/.test(patterns[0])) return patterns[0];
  if (transportTopic) return transportTopic;
  return envelopeTopic(body) ?? '';
}

/** `metadata.topic` of a JSON envelope; undefined for any other body. */
export function envelopeTopic(body: string | Buffer): string | undefined {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    const topic = (JSON.parse(text) as { metadata?: { topic?: unknown } }).metadata?.topic;
    return typeof topic === 'string' && topic.length > 0 ? topic : undefined;
  } catch {
    return undefined;
  }
}
