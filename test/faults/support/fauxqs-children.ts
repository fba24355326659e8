import type { INestApplication } from '@nestjs/common';
import type { SnsSqsOptions } from '../../../lib/index.js';
import type { HarnessConfig } from '../harness/config.js';
import { type Fauxqs, startFauxqs } from '../../support/fauxqs.js';
import { startConsumerChild, type ConsumerChild } from './child.js';
import { AWS_CREDENTIALS, CaptureLogger } from './logs.js';

/** SIGKILLs every child still running, then closes every app; both lists are emptied. */
export async function stopChildrenAndApps(children: ConsumerChild[], apps: INestApplication[]): Promise<void> {
  for (const c of children.splice(0))
    if (c.process.exitCode === null && c.process.signalCode === null) {
      c.process.kill('SIGKILL');
      await c.exited;
    }
  await Promise.all(apps.splice(0).map((a) => a.close()));
}

/**
 * Call inside a describe block whose SNS+SQS consumers run in child processes: starts an emulator of its own (fauxqs
 * unless `start` says otherwise, e.g. startMoto) before all tests, kills the children left running and closes the apps
 * pushed to `apps` after each, stops the emulator after all.
 */
export function fauxqsWithChildren(start: () => Promise<Fauxqs> = startFauxqs) {
  let fauxqs: Fauxqs | undefined;
  const children: ConsumerChild[] = [];
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    fauxqs = await start();
  });
  afterEach(() => stopChildrenAndApps(children, apps));
  afterAll(async () => {
    await fauxqs?.stop();
  });

  const started = (): Fauxqs => {
    if (!fauxqs) throw new Error('the emulator starts in beforeAll: use it inside a test');
    return fauxqs;
  };
  return {
    logger: new CaptureLogger(),
    apps,
    get fauxqs(): Fauxqs {
      return started();
    },
    /** Module `snsSqs` options for this emulator with the faults' AWS credentials; no waitTimeSeconds unless `extra` sets it. */
    snsSqs: (extra: SnsSqsOptions = {}): SnsSqsOptions => ({
      region: 'us-east-1',
      endpoint: started().endpoint,
      credentials: AWS_CREDENTIALS,
      ...extra,
    }),
    /** Starts the consumer harness in a child process, killed after the test if it still runs. */
    spawn: (config: HarnessConfig): ConsumerChild => {
      const child = startConsumerChild(config);
      children.push(child);
      return child;
    },
  };
}
