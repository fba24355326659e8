// jest globalTeardown: stops the run's own RabbitMQ nodes.
import { RUN_DIR_ENV, stopRunNodes } from './rabbitmq-run.mjs';

export default async function globalTeardown() {
  await stopRunNodes(process.env[RUN_DIR_ENV]);
}
