import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';

export interface CallLog {
  /** Every command started, in order, with the time it started. */
  calls: Array<{ name: string; at: number }>;
  /** ReceiveMessage calls started and not yet settled. */
  outstandingReceives: number;
  /** The most ReceiveMessage calls outstanding at once. */
  peakReceives: number;
  count(name?: string, since?: number): number;
}

/** Records every SNS/SQS command the clients send (at the SDK's initialize step: one entry per call, not per retry). */
export function countCalls(clients: Array<SNSClient | SQSClient>): CallLog {
  const log: CallLog = {
    calls: [],
    outstandingReceives: 0,
    peakReceives: 0,
    count(name, since = 0) {
      return log.calls.filter((c) => (name === undefined || c.name === name) && c.at >= since).length;
    },
  };
  for (const client of new Set(clients)) {
    (client as unknown as { middlewareStack: { add: Function } }).middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
        log.calls.push({ name, at: Date.now() });
        if (name !== 'ReceiveMessage') return next(args);
        log.outstandingReceives += 1;
        log.peakReceives = Math.max(log.peakReceives, log.outstandingReceives);
        try {
          return await next(args);
        } finally {
          log.outstandingReceives -= 1;
        }
      },
      { step: 'initialize', name: `countCalls${Math.random().toString(36).slice(2)}` },
    );
  }
  return log;
}
