/** nestjs-messaging over SNS+SQS (fauxqs): ReceiveMessage calls of an idle consumer, fresh and after a trickle. */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sleep, uniqueName, waitUntil } from '../support/common.js';
import { createOursApp, sink } from '../support/ours-app.js';
import { awsClients, CallCounter, CREDENTIALS, deleteByPrefix, endpoint, REGION } from '../support/sqs.js';

/**
 * One queue at `concurrency`, long polling with the default waitTimeSeconds 20: receives started during `windowMs`
 * while fresh, then `trickle` messages published one at a time (each handled before the next), then receives during
 * another `windowMs` of idleness. Also the most receives outstanding at once.
 */
export async function idle(p: { concurrency: number; windowMs: number; trickle: number }) {
  const prefix = uniqueName('bench-idle');
  const ours = await createOursApp({
    transport: 'sns-sqs',
    serviceName: 'bench',
    topicPrefix: `${prefix}-`,
    queueNamePrefix: `${prefix}-`,
    concurrency: p.concurrency,
    drainTimeout: 5_000,
    snsSqs: { endpoint: endpoint(), region: REGION, credentials: CREDENTIALS },
  });
  const counter = new CallCounter().attach(ours.server.unwrap<{ sqs: SQSClient }>().sqs);
  let outstanding = 0;
  let peak = 0;
  (ours.server.unwrap<{ sqs: SQSClient }>().sqs as unknown as { middlewareStack: { add: Function } }).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      if (context.commandName !== 'ReceiveMessageCommand') return next(args);
      peak = Math.max(peak, ++outstanding);
      try {
        return await next(args);
      } finally {
        outstanding -= 1;
      }
    },
    { step: 'initialize', name: 'benchOutstandingReceives' },
  );
  let handled = 0;
  sink.onMessage = () => {
    handled += 1;
  };
  await ours.listen();
  const receives = () => counter.calls.ReceiveMessage ?? 0;
  const window = async () => {
    const from = receives();
    await sleep(p.windowMs);
    return receives() - from;
  };
  const fresh = await window();
  const freshPeak = peak;
  for (let i = 0; i < p.trickle; i++) {
    await ours.emit({ i });
    await waitUntil(`message ${i} handled`, () => handled === i + 1, 30_000);
  }
  const afterTrickle = await window();
  await ours.close();
  const { sns, sqs } = awsClients();
  await deleteByPrefix(sns, sqs, prefix);
  return { concurrency: p.concurrency, windowMs: p.windowMs, trickle: p.trickle, fresh, afterTrickle, freshPeak, peak };
}
