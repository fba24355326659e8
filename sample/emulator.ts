/** Starts the fauxqs SNS/SQS emulator in this process when no AWS endpoint is configured. */
export async function startEmbeddedAws(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const { startFauxqs } = await import('fauxqs');
  const server = await startFauxqs({ port: 0, logger: false });
  process.env.AWS_REGION ??= 'us-east-1'; // the emulator's region
  process.env.AWS_ACCESS_KEY_ID ??= 'sample';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'sample';
  // The AWS SDK warns that its 2027 releases need Node 22; the sample pins today's SDK, so keep its output readable.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}
