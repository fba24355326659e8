/** Starts the fauxqs SNS/SQS emulator in this process when no AWS endpoint is configured. */
export async function startEmbeddedAws(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const { startFauxqs } = await import('fauxqs');
  const server = await startFauxqs({ port: 0, logger: false });
  process.env.AWS_ACCESS_KEY_ID ??= 'sample';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'sample';
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}
