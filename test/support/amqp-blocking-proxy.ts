import { createConnection, createServer, type Server, type Socket } from 'node:net';

const FRAME_METHOD = 1;
const FRAME_END = 0xce;
const FRAME_HEADER = 7;

/** A connection-level method frame (channel 0) of class 10 (connection). */
function connectionMethodFrame(methodId: number, args: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from([0, 10, methodId >> 8, methodId & 0xff]), args]);
  const header = Buffer.alloc(FRAME_HEADER);
  header.writeUInt8(FRAME_METHOD, 0);
  header.writeUInt16BE(0, 1);
  header.writeUInt32BE(payload.length, 3);
  return Buffer.concat([header, payload, Buffer.from([FRAME_END])]);
}

/** connection.blocked (10, 60) with a shortstr reason, as RabbitMQ sends it on a memory or disk alarm. */
export function connectionBlockedFrame(reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  return connectionMethodFrame(60, Buffer.concat([Buffer.from([text.length]), text]));
}

/** connection.unblocked (10, 61). */
export function connectionUnblockedFrame(): Buffer {
  return connectionMethodFrame(61, Buffer.alloc(0));
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Server-to-client bytes not yet forming a whole frame. */
  partial: Buffer;
  /** Client bytes held back while blocked. */
  held: Buffer[];
}

/**
 * A TCP proxy to a RabbitMQ that can make a connection look blocked by a resource alarm without touching
 * the broker: block() sends connection.blocked to each client (between whole frames) and stops forwarding what the
 * clients send, as a blocked broker stops reading; unblock() sends connection.unblocked and forwards what was held.
 */
export class AmqpBlockingProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private blocked = false;
  private port = 0;

  private constructor(
    private readonly targetUrl: string,
    private readonly target: { host: string; port: number },
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  /** A proxy to the broker at `targetUrl`: a test node (rabbitmq-node.ts), since blocking is a destructive test. */
  static async start(targetUrl: string): Promise<AmqpBlockingProxy> {
    const target = new URL(targetUrl);
    const proxy = new AmqpBlockingProxy(targetUrl, { host: target.hostname, port: Number(target.port) || 5672 });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  /** The target's URL with host and port replaced by the proxy's. */
  get url(): string {
    const url = new URL(this.targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString().replace(/\/$/, '');
  }

  get connections(): number {
    return this.pairs.size;
  }

  block(reason = 'low on memory'): void {
    this.blocked = true;
    for (const pair of this.pairs) pair.client.write(connectionBlockedFrame(reason));
  }

  unblock(): void {
    this.blocked = false;
    for (const pair of this.pairs) {
      pair.client.write(connectionUnblockedFrame());
      for (const chunk of pair.held.splice(0)) pair.upstream.write(chunk);
    }
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = createConnection(this.target);
    const pair: Pair = { client, upstream, partial: Buffer.alloc(0), held: [] };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (this.blocked) pair.held.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => this.forwardFrames(pair, chunk));
  }

  /** Forwards whole frames only, so a frame written by block()/unblock() never lands inside another frame. */
  private forwardFrames(pair: Pair, chunk: Buffer): void {
    let buffer = pair.partial.length > 0 ? Buffer.concat([pair.partial, chunk]) : chunk;
    let end = 0;
    while (buffer.length - end >= FRAME_HEADER) {
      const size = buffer.readUInt32BE(end + 3);
      const frameEnd = end + FRAME_HEADER + size + 1;
      if (frameEnd > buffer.length) break;
      end = frameEnd;
    }
    if (end > 0) pair.client.write(buffer.subarray(0, end));
    buffer = buffer.subarray(end);
    pair.partial = Buffer.from(buffer);
  }
}
