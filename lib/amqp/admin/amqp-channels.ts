import * as amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import { AdminResourceNotFoundError } from '../../transport/admin.errors.js';
import { code } from './amqp-refusals.js';

/** Milliseconds to open the admin's own connection when MessagingModule has none. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Channels for the admin operations: on MessagingModule's live connection when it has one, else on a connection of
 * its own (opened on first use, closed with close()). Each operation gets a throwaway channel, since a refused
 * passive declare closes the channel it ran on.
 */
export class AmqpChannels {
  private own?: Promise<ChannelModel>;

  constructor(
    private readonly url: string,
    private readonly shared: () => ChannelModel | undefined,
  ) {}

  async with<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    return this.run((model) => model.createChannel(), work);
  }

  async withConfirms<T>(work: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
    return this.run((model) => model.createConfirmChannel(), work);
  }

  /** Whether a queue exists (passive declare), with its depth and consumers. */
  async checkQueue(name: string): Promise<{ messageCount: number; consumerCount: number } | undefined> {
    return this.with((channel) => channel.checkQueue(name)).catch((error: unknown) => {
      if (code(error) === 404) return undefined;
      throw error;
    });
  }

  async requireQueue(name: string): Promise<{ messageCount: number; consumerCount: number }> {
    const found = await this.checkQueue(name);
    if (!found) throw new AdminResourceNotFoundError('queue', name);
    return found;
  }

  async exchangeExists(name: string): Promise<boolean> {
    return this.with((channel) => channel.checkExchange(name)).then(
      () => true,
      (error: unknown) => {
        if (code(error) === 404) return false;
        throw error;
      },
    );
  }

  async requireExchange(name: string): Promise<void> {
    if (!(await this.exchangeExists(name))) throw new AdminResourceNotFoundError('topic', name, 'no such AMQP exchange');
  }

  async close(): Promise<void> {
    const own = this.own;
    this.own = undefined;
    const model = await own?.catch(() => undefined);
    await model?.close().catch(() => undefined);
  }

  private async run<C extends Channel, T>(open: (model: ChannelModel) => Promise<C>, work: (channel: C) => Promise<T>): Promise<T> {
    const channel = await open(await this.model());
    let closedBy: Error | undefined;
    channel.on('error', (error: Error) => {
      closedBy = error;
    });
    try {
      return await work(channel);
    } catch (error) {
      throw closedBy ?? error; // the channel's close reason carries the broker's reply code
    } finally {
      if (!closedBy) await channel.close().catch(() => undefined);
    }
  }

  private model(): Promise<ChannelModel> {
    const shared = this.shared();
    if (shared) return Promise.resolve(shared);
    if (!this.own) {
      const own = amqp.connect(this.url, { timeout: CONNECT_TIMEOUT_MS, clientProperties: { connection_name: 'nestjs-messaging admin' } });
      own.then(
        (model) => {
          model.on('error', () => undefined);
          model.on('close', () => {
            if (this.own === own) this.own = undefined;
          });
        },
        () => {
          if (this.own === own) this.own = undefined;
        },
      );
      this.own = own;
    }
    return this.own;
  }
}
