import { batchesOf, NextTickBatcher } from '../../../lib/sns-sqs/batching.js';

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

describe('batching for the SQS/SNS *Batch calls', () => {
  it('batchesOf splits into groups of at most 10', () => {
    expect(batchesOf([])).toEqual([]);
    expect(batchesOf(Array.from({ length: 23 }, (_, i) => i)).map((b) => b.length)).toEqual([10, 10, 3]);
  });

  it('sends a full batch at once and the rest on the next tick', async () => {
    const sent: number[][] = [];
    const batcher = new NextTickBatcher<number>(async (batch) => {
      sent.push(batch);
    });
    for (let i = 0; i < 12; i++) batcher.add(i);
    expect(sent.map((b) => b.length)).toEqual([10]);
    await nextTick();
    expect(sent.map((b) => b.length)).toEqual([10, 2]);
  });

  it('closes a batch before an item that does not fit', () => {
    const sent: number[][] = [];
    const batcher = new NextTickBatcher<number>(
      async (batch) => {
        sent.push(batch);
      },
      (batch, next) => batch.reduce((a, b) => a + b, 0) + next <= 10,
    );
    batcher.add(6);
    batcher.add(5);
    expect(sent).toEqual([[6]]);
  });

  it('flush waits for sends in flight, including items a send adds back', async () => {
    const sent: string[][] = [];
    let retried = false;
    const batcher: NextTickBatcher<string> = new NextTickBatcher<string>(async (batch) => {
      await nextTick();
      sent.push(batch);
      if (!retried) {
        retried = true;
        batcher.add('retry');
      }
    });
    batcher.add('first');
    await batcher.flush();
    expect(sent).toEqual([['first'], ['retry']]);
  });
});
