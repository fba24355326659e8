/**
 * The library's SNS publish path alone, in-process: the JSON envelope's encode, SnsPublisher (checks, attributes,
 * batching, per-entry settlement) and a stubbed SNS client that answers every PublishBatch at once. No network, no
 * emulator: what the library itself costs per emit. Compile with the bench (tsconfig.sample.json), then
 *   node dist-sample/bench/publish-path.js [rounds=5] [messages=100000]
 * Prints µs per message (wall and CPU) per round, without attributes and with two.
 */
import { JsonEnvelope } from '../lib/envelopes/json.envelope.js';
import { ServiceIdentity } from '../lib/service-identity.js';
import type { AwsClients } from '../lib/sns-sqs/clients.js';
import { SnsPublisher } from '../lib/sns-sqs/publisher.js';
import type { AttributeValue } from '../lib/transport/broker.js';
import { payload } from './support/common.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const MESSAGES = Number(process.argv[3] ?? 100_000);
/** Emits in flight at once, as an application with many concurrent requests would have. */
const IN_FLIGHT = 1000;
const TOPIC = 'order-paid';

type Entries = Array<{ Id: string }>;

/** Answers like SNS: every entry successful. */
const stubClients = {
  sns: {
    send: (command: { input: { PublishBatchRequestEntries: Entries } }) =>
      Promise.resolve({
        Successful: command.input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: 'm' })),
        Failed: [],
      }),
  },
  sqs: {},
} as unknown as AwsClients;

async function round(attributes: Record<string, AttributeValue>): Promise<{ wall: number; cpu: number }> {
  const publisher = new SnsPublisher(
    { clients: stubClients, logger: console },
    async (topic) => `arn:aws:sns:us-east-1:123456789012:${topic}`,
  );
  const envelope = new JsonEnvelope();
  const service = new ServiceIdentity('bench');
  const context = { topic: TOPIC, service };
  await publisher.publish({ topic: TOPIC, body: envelope.encode(payload(0), context), attributes }); // the ARN, remembered
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let sent = 0; sent < MESSAGES; sent += IN_FLIGHT) {
    const wave: Array<Promise<void>> = [];
    for (let i = sent; i < sent + IN_FLIGHT; i++)
      wave.push(publisher.publish({ topic: TOPIC, body: envelope.encode(payload(i), context), attributes }));
    await Promise.all(wave);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall: (wall * 1000) / MESSAGES, cpu: (cpu.user + cpu.system) / MESSAGES };
}

async function main(): Promise<void> {
  const variants: Array<[string, Record<string, AttributeValue>]> = [
    ['no attributes', {}],
    ['two attributes', { currency: 'EUR', amount: 100 }],
  ];
  for (const [name, attributes] of variants) {
    const results: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const { wall, cpu } = await round(attributes);
      results.push(`${wall.toFixed(2)}/${cpu.toFixed(2)}`);
    }
    console.log(`${name}: µs per message (wall/CPU) per round of ${MESSAGES}: ${results.join('  ')}`);
  }
}

void main();
