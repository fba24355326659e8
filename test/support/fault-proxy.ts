import { connect, createServer, type Socket } from 'node:net';

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`, for an SDK's endpoint. */
  endpoint: string;
  /** A network outage: every connection is dropped and new ones are refused, until mend(). */
  cut(): void;
  /**
   * A stalled endpoint: every connection, open or new, is accepted and what it carries is silently dropped both ways;
   * the ones open now stay stalled for good, new ones pass again after mend().
   */
  stall(): void;
  /** New connections pass through to the target again. */
  mend(): void;
  close(): Promise<void>;
}

/** One proxied connection: stalled for good once stall() caught it open. */
interface Link {
  stalled: boolean;
}

/** A TCP proxy to `target` that the test turns into a network outage (cut) or a stalled endpoint (stall) at will. */
export function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  return listen(target);
}

/** A server that accepts TCP connections and never answers: a stalled endpoint from the start, with nothing behind it. */
export function startStalledEndpoint(): Promise<Pick<FaultProxy, 'endpoint' | 'close'>> {
  return listen(undefined);
}

async function listen(target: { host: string; port: number } | undefined): Promise<FaultProxy> {
  let mode: 'open' | 'cut' | 'stalled' = target ? 'open' : 'stalled';
  const sockets = new Set<Socket>();
  const links = new Set<Link>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (mode === 'cut') return void client.destroy();
    if (mode === 'stalled' || !target) return;
    const upstream = connect(target.port, target.host);
    track(upstream);
    const link: Link = { stalled: false };
    links.add(link);
    // chunk by chunk, not pipe(): a stall must swallow what is already under way on an open connection
    client.on('data', (chunk) => {
      if (!link.stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!link.stalled) client.write(chunk);
    });
    client.on('close', () => {
      links.delete(link);
      upstream.destroy();
    });
    upstream.on('close', () => {
      if (!link.stalled) client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut() {
      mode = 'cut';
      for (const socket of sockets) socket.destroy();
    },
    stall() {
      mode = 'stalled';
      for (const link of links) link.stalled = true;
    },
    mend() {
      mode = 'open';
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
