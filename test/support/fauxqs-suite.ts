import type { INestApplication } from '@nestjs/common';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { type Fauxqs, startFauxqs } from './fauxqs.js';
import type { StartEmulator } from './emulators.js';

/**
 * Call inside a describe block: starts an emulator of its own (fauxqs unless `start` says otherwise, e.g. startMoto)
 * before all tests, closes the apps pushed to `apps` and deletes the queues (URLs) pushed to `queues` after each, stops
 * the emulator after all (also when a test failed).
 */
export function fauxqsSuite(start: StartEmulator = startFauxqs): { readonly fauxqs: Fauxqs; apps: INestApplication[]; queues: string[] } {
  let fauxqs: Fauxqs | undefined;
  const apps: INestApplication[] = [];
  const queues: string[] = [];
  beforeAll(async () => {
    fauxqs = await start();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await Promise.all(queues.splice(0).map((QueueUrl) => fauxqs!.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined)));
  });
  afterAll(() => fauxqs?.stop());
  return {
    get fauxqs(): Fauxqs {
      if (!fauxqs) throw new Error('the emulator starts in beforeAll: use it inside a test or hook');
      return fauxqs;
    },
    apps,
    queues,
  };
}
