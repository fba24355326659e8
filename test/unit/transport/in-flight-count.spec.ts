import { InFlightCount } from '../../../lib/transport/in-flight-count.js';

describe('InFlightCount: what a consumer waits on at stop', () => {
  it('is idle at once when nothing runs', async () => {
    const count = new InFlightCount();
    await expect(count.whenIdle()).resolves.toBeUndefined();
    expect(count.size).toBe(0);
  });

  it('resolves every waiter when the last piece of work finishes, not before', async () => {
    const count = new InFlightCount();
    count.start();
    count.start();
    let idle = 0;
    const waiters = [count.whenIdle(), count.whenIdle()].map((p) => p.then(() => (idle += 1)));
    count.finish();
    await Promise.resolve();
    expect(idle).toBe(0);
    expect(count.size).toBe(1);
    count.finish();
    await Promise.all(waiters);
    expect(idle).toBe(2);
  });

  it('waits again for work that starts after it was idle', async () => {
    const count = new InFlightCount();
    count.start();
    count.finish();
    count.start();
    let idle = false;
    const waiter = count.whenIdle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    count.finish();
    await waiter;
    expect(idle).toBe(true);
  });
});
