import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { MessagingServer, type TransportName } from '../lib/index.js';
import { AppModule } from './app.module.js';
import { peekDeadLetters } from './dead-letters.js';
import { startEmbeddedAws } from './emulator.js';
import { OrdersService } from './orders/orders.service.js';
import { SampleLog } from './sample-log.js';

/**
 * orders publishes order-paid (with a currency attribute) and order-refunded; billing consumes order-paid through
 * a filter policy and fails on order-refunded until the message lands in the dead-letter queue.
 * Usage: npm run sample [-- --transport amqp]   (or SAMPLE_TRANSPORT=amqp)
 */
async function main(): Promise<void> {
  const transport = readTransport();
  const embedded = transport === 'sns-sqs' && !process.env.AWS_ENDPOINT_URL ? await startEmbeddedAws() : undefined;
  const runId = randomBytes(3).toString('hex');
  const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  console.log(`transport ${transport}${embedded ? ` (embedded SNS/SQS emulator at ${embedded.endpoint})` : ''}, run ${runId}`);

  const app = await NestFactory.create(
    AppModule.register({ transport, awsEndpoint: embedded?.endpoint ?? process.env.AWS_ENDPOINT_URL, amqpUrl, runId }),
    { logger: ['error', 'warn'] },
  );
  app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  await app.init();

  const orders = app.get(OrdersService);
  const log = app.get(SampleLog);
  await Promise.all([orders.pay('o-1', 100, 'EUR'), orders.pay('o-2', 250, 'USD'), orders.pay('o-3', 75, 'SEK')]);
  await orders.refund('o-1');

  const expectedPaid = 2;
  const deadLetterQueue = `sample-${runId}-billing--order-refunded-dlq`;
  const unwrapped = app.get(MessagingServer).unwrap();
  const deadLetters = await until(async () => {
    if (log.paid < expectedPaid) return undefined;
    const found = await peekDeadLetters(transport, unwrapped, deadLetterQueue);
    return found.length > 0 ? found : undefined;
  }, 60_000);

  console.log(
    `billing  (order-paid o-3 in SEK was dropped by the filter policy${transport === 'sns-sqs' ? ' in SNS' : ', evaluated on the AMQP headers'})`,
  );
  console.log(`dead-letter queue ${deadLetterQueue}: ${deadLetters.length} message(s); reason: ${deadLetters[0].reason}`);
  console.log(`done: ${log.paid} payment(s) handled, refund failed ${log.refundAttempts} time(s) and was dead-lettered`);
  await app.close();
  await embedded?.stop();
}

function readTransport(): TransportName {
  const flag = process.argv.indexOf('--transport');
  const value = flag >= 0 ? process.argv[flag + 1] : (process.env.SAMPLE_TRANSPORT ?? 'sns-sqs');
  if (value !== 'sns-sqs' && value !== 'amqp') throw new Error(`--transport must be sns-sqs or amqp, got ${value}`);
  return value;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`the sample flow did not finish within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
