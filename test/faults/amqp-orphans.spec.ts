import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { shareBroker } from '../support/rabbitmq.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { startConsumerChild, type ConsumerChild } from './support/child.js';
import { scratchFile } from './support/paths.js';

const run = promisify(execFile);

/**
 * Issue 9, finding 12 (AMQP): a `competing: false` process killed with SIGKILL leaves no queue behind: its queue,
 * -retry and -dlq carry x-expires (amqp.perProcessQueueExpires, short here) and vanish once unused; while the
 * process lives it keeps renewing them.
 */
const EXPIRES_MS = 1500;

async function queuesStartingWith(prefix: string): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name']);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((name) => name.startsWith(prefix))
    .sort();
}

shareBroker();

describe('faults: AMQP per-process queues after SIGKILL', () => {
  let child: ConsumerChild | undefined;
  afterEach(async () => {
    if (child && child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  });

  it('the queue, its -retry and its -dlq live while the process does and expire after it was killed', async () => {
    const serviceName = uniqueName('orphan');
    const topic = uniqueName('orphan-topic');
    child = startConsumerChild({
      module: { transport: 'amqp', serviceName, amqp: { perProcessQueueExpires: EXPIRES_MS } },
      topic,
      extras: { competing: false },
      handledFile: scratchFile(`${topic}.handled`),
    });
    await child.ready;
    const queues = await waitFor(
      async () => {
        const found = await queuesStartingWith(`${serviceName}--`);
        return found.length === 3 ? found : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'the three per-process queues' },
    );
    expect(queues.map((q) => q.replace(/--[0-9a-f]{12}/, '--<id>'))).toEqual([
      `${serviceName}--${topic}--<id>`,
      `${serviceName}--${topic}--<id>-dlq`,
      `${serviceName}--${topic}--<id>-retry`,
    ]);

    // alive: renewed, so still there after several expiry periods
    const aliveUntil = Date.now() + 4 * EXPIRES_MS;
    while (Date.now() < aliveUntil) {
      expect(await queuesStartingWith(`${serviceName}--`)).toEqual(queues);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    child.process.kill('SIGKILL');
    await child.exited;
    const killedAt = Date.now();
    await waitFor(async () => (await queuesStartingWith(`${serviceName}--`)).length === 0, {
      timeoutMs: 20_000,
      intervalMs: 250,
      what: 'the per-process queues to expire',
    });
    console.log(`orphans: all 3 per-process queues gone ${Date.now() - killedAt} ms after SIGKILL (x-expires ${EXPIRES_MS} ms)`);
  }, 60_000);
});
