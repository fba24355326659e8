/** nestjs-messaging over SNS+SQS (fauxqs): ReceiveMessage calls of an idle consumer, fresh and after a trickle. */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sleep, uniqueName, waitUntil } from '../support/common.js';
import { createOursApp, sink } from '../support/ours-app.js';
import { awsClients, CREDENTIALS, deleteByPrefix, endpoint, REGION } from '../support/sqs.js';

/** A long poll's start and end (ms); `end` unset while it is outstanding. */
interface Poll {
  start: number;
  end?: number;
}

/**
 * The polls of [from, to), each counted by the share of its duration inside the window: a back-to-back 20 s poll
 * loop counts 3 in any 60 s window, whatever its phase (counting starts or ends instead gives 2 or 3 by phase).
 */
export function pollsIn(polls: readonly Poll[], from: number, to: number): number {
  let count = 0;
  for (const poll of polls) {
    if (poll.end === undefined) throw new Error('a poll is still outstanding');
    const overlap = Math.min(poll.end, to) - Math.max(poll.start, from);
    if (overlap > 0) count += overlap / Math.max(poll.end - poll.start, 1);
  }
  return count;
}

/**
 * One queue at `concurrency`, long polling with the default waitTimeSeconds 20: polls (time-weighted, see pollsIn)
 * during `windowMs` while fresh, then `trickle` messages published one at a time (each handled before the next),
 * then polls during another `windowMs` of idleness. Also the most receives outstanding at once.
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
  const polls: Poll[] = [];
  let outstanding = 0;
  let peak = 0;
  (ours.server.unwrap<{ sqs: SQSClient }>().sqs as unknown as { middlewareStack: { add: Function } }).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      if (context.commandName !== 'ReceiveMessageCommand') return next(args);
      const poll: Poll = { start: Date.now() };
      polls.push(poll);
      peak = Math.max(peak, ++outstanding);
      try {
        return await next(args);
      } finally {
        outstanding -= 1;
        poll.end = Date.now();
      }
    },
    { step: 'initialize', name: 'benchOutstandingReceives' },
  );
  let handled = 0;
  sink.onMessage = () => {
    handled += 1;
  };
  await ours.listen();
  /** Idle for windowMs, then waits for the polls open at its end to end by themselves (a message would cut them short). */
  const window = async () => {
    const from = Date.now();
    await sleep(p.windowMs);
    const to = Date.now();
    const open = polls.filter((poll) => poll.start < to);
    await waitUntil('the polls open at the end of the window', () => open.every((poll) => poll.end !== undefined), 30_000);
    return pollsIn(open, from, to);
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
