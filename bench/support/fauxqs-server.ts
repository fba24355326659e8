/** The fauxqs SNS/SQS emulator in a process of its own; prints its port, stops on SIGTERM. */
async function main(): Promise<void> {
  const { startFauxqs } = await import('fauxqs');
  const server = await startFauxqs({ port: 0, logger: false });
  process.stdout.write(`FAUXQS_PORT ${server.port}\n`);
  const stop = () => {
    void server.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
void main();
